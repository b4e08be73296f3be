"""Typed access to the request context (`shared.context.RequestContext`) for wallet resolvers."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import (
    client_address,
    database,
    kv,
    references,
    require_user,
    session,
    viewer_id,
)
from subgraphs.wallet.runtime import WalletRuntime

__all__ = ["client_ip", "database", "kv", "references", "require_user", "runtime", "session",
           "viewer_id"]


def runtime(info: Info[Any, Any]) -> WalletRuntime:
    return info.context.extra["wallet"]  # type: ignore[no-any-return]


def client_ip(info: Info[Any, Any]) -> str:
    # The kit's one client address: the gateway's, proven by its credential, else the peer.
    return client_address(info) or "unknown"
