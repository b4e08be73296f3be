"""@policy implementations for the front-door tests (loaded through GATEWAY_POLICY_MODULES)."""

from __future__ import annotations

from gateway.executor.authorize import PolicyRegistry, PolicyRequest
from shared.auth import Caller


async def _vip(caller: Caller, request: PolicyRequest) -> bool:
    # the caller's role, or a header of the request: policies see both
    return caller.has_role("VIP") or request.headers.get("x-vip-pass") == "yes"


def register(registry: PolicyRegistry) -> None:
    registry.register("vip", _vip)
