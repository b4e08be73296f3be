"""Service keys for tests that build prod settings (prod refuses to start without one)."""

from __future__ import annotations

from functools import cache
from typing import Any

from shared.auth import SigningKeys

__all__ = ["prod_trust", "service_key_pem"]


@cache
def service_key_pem() -> str:
    return SigningKeys.generate().to_pem().decode()


@cache
def _gateway_public_key() -> str:
    from shared.service_auth import public_key_text

    return public_key_text(SigningKeys.generate())


def prod_trust() -> dict[str, Any]:
    """What prod settings need beyond a test's own: a service key and the gateway's public key."""
    return {"service_key": service_key_pem(),
            "service_public_keys": {"gateway": _gateway_public_key()}}
