"""Fixture subgraphs over real HTTP: one uvicorn per fixture supergraph, in a thread, on port 0.

Each subgraph answers at /<name>/graphql. Every request is recorded (subgraph, query, variables,
headers) so tests can assert which fetches the gateway made. A few misbehaving endpoints stand in
for broken subgraphs: /_slow (answers after a long pause), /_garbage (HTML), /_shapeless (JSON
without data or errors), /_http500 (an HTML 500 page).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.gateway.fixtures.registry import FIXTURES, subgraph_schema


@dataclass(frozen=True, kw_only=True, slots=True)
class Recorded:
    subgraph: str
    query: str
    variables: dict[str, Any]
    headers: dict[str, str]


@dataclass(kw_only=True)
class Gate:
    """Holds requests to a subgraph until released, so a test can act while one is in flight."""

    closed: bool = False
    waiting: int = 0
    event: threading.Event = field(default_factory=threading.Event)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


class SubgraphServer:
    def __init__(self, fixture: str) -> None:
        self.fixture = fixture
        self.requests: list[Recorded] = []
        self.gates: dict[str, Gate] = {}
        self.slow_seconds = 5.0
        routes = [Route(f"/{name}/graphql", self._endpoint(name), methods=["POST"]) for name in FIXTURES[fixture]]
        routes += [
            Route("/_slow", self._slow, methods=["POST"]),
            Route("/_garbage", self._garbage, methods=["POST"]),
            Route("/_shapeless", self._shapeless, methods=["POST"]),
            Route("/_http500", self._http500, methods=["POST"]),
        ]
        config = uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=0, log_level="warning", lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"subgraphs-{fixture}", daemon=True)
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> SubgraphServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("fixture subgraph server failed to start")
            threading.Event().wait(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        for gate in self.gates.values():
            gate.event.set()
        self._server.should_exit = True
        self._thread.join(timeout=5)

    # -- addresses -----------------------------------------------------------------------------
    def url(self, subgraph: str) -> str:
        return f"http://127.0.0.1:{self.port}/{subgraph}/graphql"

    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in FIXTURES[self.fixture]}

    def special(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def calls(self, subgraph: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if subgraph is None or r.subgraph == subgraph]

    def reset(self) -> None:
        self.requests.clear()
        self.gates.clear()

    # -- handlers ------------------------------------------------------------------------------
    def _endpoint(self, name: str) -> Callable[[Request], Awaitable[Response]]:
        schema = subgraph_schema(self.fixture, name)

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            body = orjson.loads(raw)
            recorded = orjson.loads(raw)  # a copy: strawberry pops __typename off representations
            self.requests.append(
                Recorded(
                    subgraph=name,
                    query=body["query"],
                    variables=recorded.get("variables") or {},
                    headers=dict(request.headers),
                )
            )
            gate = self.gates.get(name)
            if gate is not None and gate.closed:
                gate.waiting += 1
                while not gate.event.is_set():
                    await asyncio.sleep(0.01)
            result = await schema.execute(
                body["query"],
                variable_values=body.get("variables"),
                operation_name=body.get("operationName"),
                context_value={"headers": dict(request.headers)},
            )
            payload: dict[str, Any] = {}
            if result.errors:
                payload["errors"] = [error.formatted for error in result.errors]
            payload["data"] = result.data
            return _json(payload)

        return endpoint

    async def _slow(self, request: Request) -> Response:
        await asyncio.sleep(self.slow_seconds)
        return _json({"data": None})

    async def _garbage(self, request: Request) -> Response:
        return HTMLResponse("<html><body>Bad gateway</body></html>")

    async def _shapeless(self, request: Request) -> Response:
        return _json({"result": "ok"})

    async def _http500(self, request: Request) -> Response:
        return HTMLResponse("<html><body>Internal Server Error</body></html>", status_code=500)


def closed_port_url() -> str:
    """A URL nothing listens on: a port the OS just handed out and we released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/graphql"
