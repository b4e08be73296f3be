"""Our own supergraph (schema/supergraph.graphql): its @listSize annotations price the feed, a
breadth bomb over nested `first: 100` connections is refused before any subgraph is called, and
its private fields are guarded."""

from __future__ import annotations

from pathlib import Path

import httpx
from graphql import parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.config import GatewaySettings
from gateway.executor.cost import estimate_cost
from gateway.server import create_app
from gateway.supergraph import build_api_schema
from gateway.supergraph.directives import read_front_door
from shared.testing import start_server

SUPERGRAPH = (Path(__file__).parents[3] / "schema" / "supergraph.graphql").read_text(encoding="utf-8")
FEED = "{ homeFeed { nodes { id text author { handle } comments { nodes { text } } } } }"
BOMB = ("{ homeFeed(first: 100) { nodes { comments(first: 100) { nodes { replies(first: 100) "
        "{ nodes { id } } } } } } }")


def _cost(query: str) -> int:
    operation = parse(query).definitions[0]
    return estimate_cost(build_api_schema(SUPERGRAPH), read_front_door(SUPERGRAPH), operation,  # type: ignore[arg-type]
                         fragments={}, variables={}, default_list_size=10)


def test_our_list_fields_are_priced_by_their_page_size() -> None:
    # connection 1 + 20 posts × (post 1 + author 1 + comments connection 1 + 20 comments)
    assert _cost(FEED) == 1 + 20 * (1 + 1 + 1 + 20)
    assert _cost(BOMB) == 1 + 100 * (1 + 1 + 100 * (1 + 1 + 100))


def test_our_private_fields_carry_access_directives() -> None:
    rules = read_front_door(SUPERGRAPH)
    assert rules.field_access[("User", "email")].authenticated
    assert rules.field_access[("Query", "myConversations")].authenticated
    assert rules.field_access[("Query", "notifications")].authenticated
    assert rules.field_access[("Mutation", "setRoles")].authenticated
    assert rules.field_access[("Query", "myWallet")].scopes == (
        (frozenset({"read"}), frozenset({"wallet:read"}), frozenset({"write"}), frozenset({"wallet:write"})),)
    assert rules.field_access[("Mutation", "requestCashout")].scopes == (
        (frozenset({"write"}), frozenset({"wallet:write"})),)


async def test_the_bomb_never_reaches_a_subgraph() -> None:
    received: list[str] = []

    async def subgraph(request: Request) -> JSONResponse:
        received.append((await request.json())["query"])
        return JSONResponse({"data": {"homeFeed": {"nodes": []}}})

    upstream = await start_server(Starlette(routes=[Route("/graphql", subgraph, methods=["POST"])]))
    urls = {name: f"{upstream.base}/graphql" for name in ("identity", "social", "wallet")}
    gateway = await start_server(create_app(GatewaySettings(subgraph_urls=urls, demand_control_mode="enforce"),
                                            supergraph_sdl=SUPERGRAPH), lifespan="on")
    try:
        async with httpx.AsyncClient(base_url=gateway.base) as http:
            refused = await http.post("/graphql", json={"query": BOMB})
            assert refused.status_code == 400
            assert refused.json()["errors"][0]["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
            assert received == []
            feed = await http.post("/graphql", json={"query": "{ homeFeed { nodes { id } } }"})
            assert feed.json() == {"data": {"homeFeed": {"nodes": []}}}
            assert len(received) == 1
    finally:
        await gateway.stop()
        await upstream.stop()
