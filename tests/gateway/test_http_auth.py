"""Tokens judged once, at the gateway, against identity's JWKS: 401 UNAUTHENTICATED over HTTP,
close 4401 over WebSocket, for expired and forged tokens; valid and absent ones pass through."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.config import GatewaySettings
from gateway.server import create_app
from shared.auth import SigningKeys, TokenIssuer
from shared.testing import Served, start_server
from tests.gateway._servers import SubgraphServer
from tests.gateway.fixtures.registry import read_supergraph
from tests.gateway.subscriptions._clients import WsClient

QUERY = '{ product(upc: "1") { name } }'
ISSUER = TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")


def _token(*, ttl: int = 600, issuer: TokenIssuer = ISSUER, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": issuer.issuer, "aud": issuer.audience, "sub": "u1", "iat": now - 1000,
               "exp": now + ttl, "roles": [], "scope": "", **claims}
    return jwt.encode(payload, issuer.keys.private_key, algorithm="EdDSA", headers={"kid": issuer.keys.kid})


@contextlib.asynccontextmanager
async def _gateway(shop_server: SubgraphServer) -> AsyncIterator[tuple[httpx.AsyncClient, Served]]:
    jwks = await start_server(Starlette(routes=[
        Route("/.well-known/jwks.json", lambda _: JSONResponse(ISSUER.jwks()))]))
    app = create_app(GatewaySettings(subgraph_urls=shop_server.urls(),
                                     jwks_url=f"{jwks.base}/.well-known/jwks.json"),
                     supergraph_sdl=read_supergraph("shop"))
    served = await start_server(app, lifespan="on", ws="websockets-sansio")
    try:
        async with httpx.AsyncClient(base_url=served.base) as client:
            yield client, served
    finally:
        await served.stop()
        await jwks.stop()


OTHER = TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")


@pytest.mark.parametrize(("token", "message"), [
    (_token(ttl=-5), "Token expired"),
    (_token(issuer=OTHER), "Invalid token: unknown signing key"),
    (_token(aud="someone-else"), "Invalid token: wrong audience"),
    ("not-a-jwt", "Invalid token: malformed"),
])
async def test_a_bad_token_gets_401_unauthenticated(shop_server, token, message):
    shop_server.reset()
    async with _gateway(shop_server) as (client, _):
        response = await client.post("/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    [error] = response.json()["errors"]
    assert error["message"] == message
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert shop_server.calls() == []  # judged at the gateway: no subgraph saw it


async def test_an_expired_token_says_so(shop_server):
    async with _gateway(shop_server) as (client, _):
        response = await client.get("/graphql", params={"query": QUERY},
                                    headers={"authorization": f"Bearer {_token(ttl=-1)}"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "expired"}


async def test_valid_and_absent_tokens_pass_through(shop_server):
    shop_server.reset()
    good = _token()
    async with _gateway(shop_server) as (client, _):
        with_token = await client.post("/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {good}"})
        anonymous = await client.post("/graphql", json={"query": QUERY})
        page = await client.get("/graphql", headers={"accept": "text/html", "authorization": "Bearer stale"})
    assert with_token.json() == anonymous.json() == {"data": {"product": {"name": "Table"}}}
    assert [c.headers.get("authorization") for c in shop_server.calls()] == [f"Bearer {good}", None]
    assert page.status_code == 200 and "GraphiQL" in page.text  # the page itself needs no token


@pytest.mark.parametrize(("token", "reason"), [(_token(ttl=-5), "Token expired"),
                                               (_token(issuer=OTHER), "Invalid token: unknown signing key")])
async def test_a_subscription_with_a_bad_token_is_closed_4401(shop_server, token, reason):
    async with _gateway(shop_server) as (_, served):
        ws = await WsClient.open(served.ws)
        await ws.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        closed = await ws.closed()
    assert closed == (4401, reason)
