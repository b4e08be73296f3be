"""The GraphQL context every subgraph resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.auth import Caller

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from shared.config import ServiceSettings
    from shared.db import Database
    from shared.redis import KeyValue

__all__ = ["RequestContext"]


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
