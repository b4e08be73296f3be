"""Password hashing (argon2id) and the password strength policy."""

from __future__ import annotations

import asyncio
import string

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shared.errors import BadUserInputError

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "PasswordHasher", "check_password_strength"]

MIN_PASSWORD_LENGTH = 10
# Bounded so a megabyte "password" is refused before argon2 spends time and memory on it.
MAX_PASSWORD_LENGTH = 256

_COMMON = frozenset(
    {
        "password", "password1", "password123", "passw0rd", "qwerty", "qwertyuiop", "letmein",
        "welcome", "iloveyou", "admin", "administrator", "monkey", "dragon", "football",
        "baseball", "sunshine", "princess", "trustno1", "123456", "1234567890", "abc123",
        "changeme", "secret", "tributary", "master", "shadow", "superman", "azerty",
    }
)


def check_password_strength(password: str, *, handle: str | None = None) -> None:
    """Raise BadUserInputError naming what is wrong with `password`, if anything."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _weak(f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _weak(f"Password must be at most {MAX_PASSWORD_LENGTH} characters long.")
    lowered = password.lower()
    if lowered.rstrip(string.digits + string.punctuation) in _COMMON or lowered in _COMMON:
        raise _weak("Password is too common.")
    if handle and len(handle) >= 3 and handle.lower() in lowered:
        raise _weak("Password must not contain the handle.")
    if len(set(password)) < 5:
        raise _weak("Password has too few distinct characters.")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    # Long passphrases ("purple monkey dishwasher") are strong with two classes.
    if classes < (2 if len(password) >= 16 else 3):
        raise _weak(
            "Password must mix at least three of: lowercase, uppercase, digits, symbols "
            "(two suffice from 16 characters on)."
        )


def _weak(message: str) -> BadUserInputError:
    return BadUserInputError(message, extensions={"field": "password", "reason": "WEAK_PASSWORD"})


class PasswordHasher:
    """argon2id hashing run off the event loop; costs default to RFC 9106's low-memory profile."""

    def __init__(self, *, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 4):
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        # Verified against for unknown accounts so a login's timing does not reveal whether
        # the handle exists; made on first need, as it costs one full hash.
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        if password_hash is None and self._dummy_hash is None:
            self._dummy_hash = await self.hash("tributary-dummy-password")
        target = password_hash or self._dummy_hash or ""
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
