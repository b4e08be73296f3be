"""Opaque secrets: refresh tokens, API keys and nonces; only their SHA-256 digests are stored."""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ["hash_secret", "new_api_key", "new_nonce", "new_refresh_token", "parse_api_key"]

_API_KEY = re.compile(r"^(trk_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


def hash_secret(secret: str) -> str:
    # The secrets carry 256 bits of randomness, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def new_nonce() -> str:
    return secrets.token_hex(16)


def new_api_key() -> tuple[str, str]:
    """Return `(prefix, key)`; the prefix is the key's public, indexed lookup part."""
    prefix = "trk_" + secrets.token_hex(6)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def parse_api_key(key: str) -> str | None:
    """Return the prefix of a well-formed API key, None for anything else."""
    match = _API_KEY.match(key.strip()) if len(key) < 100 else None
    return match.group(1) if match else None
