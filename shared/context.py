"""The GraphQL context every subgraph resolver receives as `info.context`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from shared.auth import Caller

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket
    from strawberry.types import Info

    from shared.config import ServiceSettings
    from shared.db import Database
    from shared.redis import KeyValue
    from shared.references import References

__all__ = ["RequestContext", "client_address", "database", "kv", "references", "require_user", "session",
           "session_loader", "viewer_id"]


@dataclass(kw_only=True)
class RequestContext:
    """Per-request (or per-WebSocket-connection) state; `loaders` hold per-request DataLoaders."""

    caller: Caller
    request_id: str
    database: Database
    kv: KeyValue
    settings: ServiceSettings
    request: Request | WebSocket
    response: Response | WebSocket | None = None
    # Checks ids of other subgraphs' entities with their owners (None only in bare tests).
    references: References | None = None
    # The client's address as the gateway computed it (or the socket peer without the gateway).
    client_address: str | None = None
    # The request carries the gateway's own service credential.
    from_gateway: bool = False
    loaders: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Set by strawberry from the graphql-transport-ws connection_init payload.
    connection_params: dict[str, Any] | None = None

    def loader(self, name: str, factory: Any) -> Any:
        """The request's DataLoader called `name`, created by `factory()` on first use."""
        found = self.loaders.get(name)
        if found is None:
            found = self.loaders[name] = factory()
        return found


# Typed access from a resolver's `info` (the subgraphs' `_context` modules add their own).


def viewer_id(info: Info[Any, Any]) -> str | None:
    return info.context.caller.user_id  # type: ignore[no-any-return]


def require_user(info: Info[Any, Any]) -> str:
    return info.context.caller.require_user()  # type: ignore[no-any-return]


def client_address(info: Info[Any, Any]) -> str | None:
    """The one client address every rate limit keys on (see `shared.app`)."""
    return info.context.client_address  # type: ignore[no-any-return]


def references(info: Info[Any, Any]) -> References:
    found = info.context.references
    assert found is not None, "this context was built without a References checker"
    return found  # type: ignore[no-any-return]


def kv(info: Info[Any, Any]) -> KeyValue:
    return info.context.kv  # type: ignore[no-any-return]


def database(info: Info[Any, Any]) -> Database:
    return info.context.database  # type: ignore[no-any-return]


@asynccontextmanager
async def session(info: Info[Any, Any]) -> AsyncIterator[AsyncSession]:
    async with info.context.database.session() as db_session:
        yield db_session


def session_loader(
    info: Info[Any, Any], name: str,
    batch: Callable[[AsyncSession, list[Any]], Awaitable[Mapping[Any, Any]]],
) -> DataLoader[Any, Any]:
    """The request's DataLoader `name`: each batch of keys is one `batch(session, keys)` call;
    a key `batch` leaves out loads None. Nothing is cached: a WebSocket context lives as long as
    its connection, and the values (counts, totals) change meanwhile."""
    context: RequestContext = info.context
    database = context.database

    async def load(keys: list[Any]) -> Sequence[Any]:
        async with database.session() as db_session:
            found = await batch(db_session, keys)
        return [found.get(k) for k in keys]

    return context.loader(name, lambda: DataLoader(load_fn=load, cache=False))  # type: ignore[no-any-return]
