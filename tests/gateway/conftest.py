"""Gateway tests: fixture subgraphs served over real HTTP, the gateway app over httpx ASGITransport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

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
    async with _client_for(app) as client:
        yield client


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


@contextlib.asynccontextmanager
async def _client_for(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
            yield client
    finally:
        # the subgraph pools belong to this test's event loop; the next test opens fresh ones
        await app.state.gateway.client.close()


@pytest.fixture(scope="session")
def shop_app(shop_server: SubgraphServer) -> Starlette:
    """One gateway app for every default-settings shop test (its plan cache is shared too)."""
    return create_app(GatewaySettings(subgraph_urls=shop_server.urls()), supergraph_sdl=read_supergraph("shop"))


@pytest.fixture(scope="session")
def media_app(media_server: SubgraphServer) -> Starlette:
    return create_app(GatewaySettings(subgraph_urls=media_server.urls()), supergraph_sdl=read_supergraph("media"))


@pytest.fixture
async def shop(shop_server: SubgraphServer, shop_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    SHOP_STATE.reset()
    shop_server.reset()
    async with _client_for(shop_app) as client:
        yield client


@pytest.fixture
async def media(media_server: SubgraphServer, media_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    media_server.reset()
    async with _client_for(media_app) as client:
        yield client
