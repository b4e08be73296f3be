"""Service keys for tests that build prod settings (prod refuses to start without one)."""

from __future__ import annotations

from functools import cache

from shared.auth import SigningKeys

__all__ = ["service_key_pem"]


@cache
def service_key_pem() -> str:
    return SigningKeys.generate().to_pem().decode()
