"""Gateway tests: fixture subgraphs served over real HTTP, the gateway app over httpx ASGITransport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.server import create_app
from tests.gateway._servers import SubgraphServer
from tests.gateway.fixtures.registry import read_supergraph
from tests.gateway.fixtures.shop.data import STATE as SHOP_STATE


@pytest.fixture(scope="session")
def shop_server() -> Iterator[SubgraphServer]:
    server = SubgraphServer("shop").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def media_server() -> Iterator[SubgraphServer]:
    server = SubgraphServer("media").start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def gateway_client(
    server: SubgraphServer,
    *,
    url_overrides: dict[str, str] | None = None,
    supergraph_sdl: str | None = None,
    **settings: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway for `server`'s fixture supergraph, with subgraph URLs pointed at its port."""
    urls = {**server.urls(), **(url_overrides or {})}
    app = create_app(
        GatewaySettings(subgraph_urls=urls, **settings),
        supergraph_sdl=supergraph_sdl if supergraph_sdl is not None else read_supergraph(server.fixture),
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client
    finally:
        await app.state.gateway.client.close()


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
               *, operation_name: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST an operation and return the JSON body, insisting on HTTP 200."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation_name is not None:
        body["operationName"] = operation_name
    response = await client.post("/graphql", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def shop(shop_server: SubgraphServer) -> AsyncIterator[httpx.AsyncClient]:
    SHOP_STATE.reset()
    shop_server.reset()
    async with gateway_client(shop_server) as client:
        yield client


@pytest.fixture
async def media(media_server: SubgraphServer) -> AsyncIterator[httpx.AsyncClient]:
    media_server.reset()
    async with gateway_client(media_server) as client:
        yield client
