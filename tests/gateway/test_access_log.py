"""x-request-id in and out, one access line per request, quiet background polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.config import GatewaySettings
from gateway.server import create_app
from gateway.server.live_composition import compose_first, poll_subgraphs
from shared.testing import start_server
from tests.gateway._servers import SubgraphServer
from tests.gateway.fixtures.registry import read_supergraph

QUERY = 'query Table { product(upc: "1") { name } }'


@contextlib.asynccontextmanager
async def _gateway(shop_server: SubgraphServer) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(GatewaySettings(subgraph_urls=shop_server.urls()), supergraph_sdl=read_supergraph("shop"))
    served = await start_server(app, lifespan="on")
    try:
        async with httpx.AsyncClient(base_url=served.base) as client:
            yield client
    finally:
        await served.stop()


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tributary.gateway.access"]


async def test_a_valid_request_id_is_echoed_and_forwarded(shop_server, caplog):
    caplog.set_level(logging.INFO, logger="tributary.gateway")
    shop_server.reset()
    async with _gateway(shop_server) as client:
        response = await client.post("/graphql", json={"query": QUERY}, headers={"x-request-id": "abc-123"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc-123"
    assert {r.headers["x-request-id"] for r in shop_server.calls()} == {"abc-123"}
    [line] = _access_lines(caplog)
    assert (line.operation, line.status, line.request_id, line.method, line.path) == (
        "Table", 200, "abc-123", "POST", "/graphql")
    assert line.duration_ms >= 0
    assert line.getMessage().startswith("POST /graphql Table 200 ")


@pytest.mark.parametrize("incoming", [None, "", "bad id with spaces", "x" * 129, "a\"b"])
async def test_a_missing_or_malformed_request_id_is_replaced(shop_server, caplog, incoming):
    caplog.set_level(logging.INFO, logger="tributary.gateway")
    shop_server.reset()
    headers = {} if incoming is None else {"x-request-id": incoming}
    async with _gateway(shop_server) as client:
        response = await client.post("/graphql", json={"query": "{ product(upc: \"1\") { name } }"},
                                     headers=headers)
    minted = response.headers["x-request-id"]
    assert minted != incoming and len(minted) == 32 and minted.isalnum()
    assert {r.headers["x-request-id"] for r in shop_server.calls()} == {minted}
    [line] = _access_lines(caplog)
    assert (line.operation, line.request_id) == (None, minted)
    assert " - 200 " in line.getMessage()


async def test_every_request_gets_one_line_errors_included_probes_none(shop_server, caplog):
    caplog.set_level(logging.INFO, logger="tributary.gateway")
    async with _gateway(shop_server) as client:
        bad = await client.post("/graphql", content=b"{", headers={"content-type": "application/json"})
        health = await client.get("/health")
    assert bad.status_code == 400 and health.status_code == 200
    assert "x-request-id" in health.headers
    lines = _access_lines(caplog)
    assert [(r.path, r.status) for r in lines] == [("/graphql", 400)]
    assert lines[0].request_id == bad.headers["x-request-id"]


SDL_V1 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\ntype Query { hello: String }'
SDL_V2 = SDL_V1.replace("hello: String", "hello: String\n  world: String")


class _SdlServer:
    """A subgraph that only tells its SDL, which a test can change or break."""

    def __init__(self) -> None:
        self.sdl = SDL_V1
        self.broken = False
        self.fetches = 0
        self.fetched = asyncio.Event()

    async def endpoint(self, request: Request) -> Response:
        self.fetches += 1
        self.fetched.set()
        if self.broken:
            return Response("down", status_code=503)
        return JSONResponse({"data": {"_service": {"sdl": self.sdl}}})

    async def rounds(self, count: int) -> None:
        """Wait until the poller has fetched `count` more times."""
        target = self.fetches + count
        while self.fetches < target:
            self.fetched.clear()
            await self.fetched.wait()


async def test_polling_logs_only_changes(caplog):
    caplog.set_level(logging.INFO, logger="tributary.gateway")
    subgraph = _SdlServer()
    served = await start_server(Starlette(routes=[Route("/graphql", subgraph.endpoint, methods=["POST"])]))
    app = create_app(GatewaySettings())
    gateway = app.state.gateway
    urls = {"hello": served.graphql}
    try:
        first = await compose_first(gateway, urls)
        poller = asyncio.create_task(poll_subgraphs(gateway, urls, 0.001, served=first))
        await subgraph.rounds(5)
        subgraph.broken = True
        await subgraph.rounds(5)
        subgraph.broken = False
        await subgraph.rounds(5)
        subgraph.sdl = SDL_V2
        await subgraph.rounds(5)
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    finally:
        await served.stop()
        await gateway.client.close()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("tributary.gateway")]
    composed = [m for m in messages if m.startswith("composed a supergraph")]
    unreachable = [m for m in messages if m.startswith("could not fetch subgraph SDLs")]
    recovered = [m for m in messages if m == "every subgraph answers again"]
    assert (len(composed), len(unreachable), len(recovered)) == (2, 1, 1), messages
    gateway.engine.prepare("{ hello world }", None)  # the second supergraph is the one served
