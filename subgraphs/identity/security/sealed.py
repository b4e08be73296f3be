"""Secrets identity must read back (TOTP seeds), sealed with AES-256-GCM bound to their owner."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["open_sealed", "seal"]

_VERSION = "v1:"


def _key(pepper: bytes) -> bytes:
    return hashlib.sha256(b"tributary-identity-totp\0" + pepper).digest()


def seal(pepper: bytes, *, owner: str, secret: str) -> str:
    """`secret` encrypted; the owner's id is authenticated data, so a sealed value copied onto
    another account does not open."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(pepper)).encrypt(nonce, secret.encode(), owner.encode())
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_sealed(pepper: bytes, *, owner: str, sealed: str) -> str:
    """The secret; ValueError when it was sealed with another key or for another owner."""
    if not sealed.startswith(_VERSION):
        raise ValueError("unknown sealed format")
    raw = base64.urlsafe_b64decode(sealed[len(_VERSION):])
    try:
        return AESGCM(_key(pepper)).decrypt(raw[:12], raw[12:], owner.encode()).decode()
    except InvalidTag:
        raise ValueError("sealed value does not open with this key and owner") from None
