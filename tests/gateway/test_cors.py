"""CORS: localhost origins outside prod, only the configured list in prod; preflights answered."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.server import create_app
from shared.testing import start_server
from tests.gateway._servers import SubgraphServer
from tests.gateway.fixtures.registry import read_supergraph

QUERY = '{ product(upc: "1") { name } }'


def _preflight(origin: str) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, authorization"}


@contextlib.asynccontextmanager
async def _gateway(shop_server: SubgraphServer, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(GatewaySettings(subgraph_urls=shop_server.urls(), **settings),
                     supergraph_sdl=read_supergraph("shop"))
    served = await start_server(app, lifespan="on")
    try:
        async with httpx.AsyncClient(base_url=served.base) as client:
            yield client
    finally:
        await served.stop()


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8080",
                                    "https://localhost"])
async def test_dev_preflight_from_localhost_is_allowed(shop_server, origin):
    async with _gateway(shop_server) as client:
        response = await client.options("/graphql", headers=_preflight(origin))
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == origin
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        answer = await client.post("/graphql", json={"query": QUERY}, headers={"origin": origin})
        assert answer.json() == {"data": {"product": {"name": "Table"}}}
        assert answer.headers["access-control-allow-origin"] == origin
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("origin", ["http://localhost.evil.example", "http://evil.example",
                                    "http://localhost:5173.evil.example"])
async def test_dev_refuses_other_origins(shop_server, origin):
    async with _gateway(shop_server) as client:
        response = await client.options("/graphql", headers=_preflight(origin))
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers


async def test_prod_allows_only_the_configured_origins(shop_server):
    async with _gateway(shop_server, environment="prod", cors_origins=["https://app.example"]) as client:
        allowed = await client.options("/graphql", headers=_preflight("https://app.example"))
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        local = await client.options("/graphql", headers=_preflight("http://localhost:5173"))
        assert local.status_code == 400
        assert "access-control-allow-origin" not in local.headers
        answer = await client.post("/graphql", json={"query": QUERY}, headers={"origin": "http://localhost:5173"})
        assert answer.status_code == 200
        assert "access-control-allow-origin" not in answer.headers


async def test_prod_localhost_can_be_switched_on(shop_server):
    async with _gateway(shop_server, environment="prod", cors_allow_localhost=True) as client:
        response = await client.options("/graphql", headers=_preflight("http://localhost:5173"))
        assert response.headers["access-control-allow-origin"] == "http://localhost:5173"


async def test_prod_without_origins_sends_no_cors_headers(shop_server):
    async with _gateway(shop_server, environment="prod") as client:
        response = await client.post("/graphql", json={"query": QUERY}, headers={"origin": "http://localhost:5173"})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers


def test_environment_decides_the_localhost_default():
    assert GatewaySettings().cors_allow_localhost is True
    assert GatewaySettings(environment="prod").cors_allow_localhost is False
