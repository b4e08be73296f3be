"""Typed access to the request context (`shared.context.RequestContext`) for wallet resolvers."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import database, kv, references, require_user, session, viewer_id
from subgraphs.wallet.runtime import WalletRuntime

__all__ = ["client_ip", "database", "kv", "references", "require_user", "runtime", "session",
           "viewer_id"]


def runtime(info: Info[Any, Any]) -> WalletRuntime:
    return info.context.extra["wallet"]  # type: ignore[no-any-return]


def client_ip(info: Info[Any, Any]) -> str:
    # The gateway is the only direct client in production and forwards the original address
    # first in x-forwarded-for; without it, the socket peer.
    request = info.context.request
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else "unknown"
