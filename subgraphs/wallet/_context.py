"""Typed access to the request context (`shared.context.RequestContext`) for wallet resolvers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from shared.db import Database
from shared.redis import KeyValue
from subgraphs.wallet.runtime import WalletRuntime

__all__ = ["client_ip", "database", "kv", "require_user", "runtime", "session", "viewer_id"]


def viewer_id(info: Info[Any, Any]) -> str | None:
    return info.context.caller.user_id  # type: ignore[no-any-return]


def require_user(info: Info[Any, Any]) -> str:
    return info.context.caller.require_user()  # type: ignore[no-any-return]


def kv(info: Info[Any, Any]) -> KeyValue:
    return info.context.kv  # type: ignore[no-any-return]


def database(info: Info[Any, Any]) -> Database:
    return info.context.database  # type: ignore[no-any-return]


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


@asynccontextmanager
async def session(info: Info[Any, Any]) -> AsyncIterator[AsyncSession]:
    async with info.context.database.session() as db_session:
        yield db_session
