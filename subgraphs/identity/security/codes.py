"""One-time and recovery codes: drawn at random, stored only as a keyed hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["code_digest", "new_numeric_code", "new_recovery_code", "normalize_code"]

CODE_DIGITS = 6
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def new_numeric_code(digits: int = CODE_DIGITS) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def new_recovery_code() -> str:
    # 12 characters of a 31-letter alphabet: about 59 bits, shown as xxxx-xxxx-xxxx.
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(code: str) -> str:
    """What users type, without spaces and dashes, lower-cased (at most 64 characters read)."""
    return "".join(c for c in code[:64] if c not in " -\t").lower()


def code_digest(pepper: bytes, *, salt: str, code: str) -> str:
    """HMAC-SHA256 keyed with a server secret: a six-digit code cannot be brute-forced from a
    database dump alone, and the per-row salt keeps equal codes from sharing a hash."""
    mac = hmac.new(pepper, f"{salt}:{normalize_code(code)}".encode(), hashlib.sha256)
    return base64.b16encode(mac.digest()).decode().lower()
