"""The benchmark's subgraphs, oracle and supergraph, checked without any load."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from gateway.supergraph import parse_supergraph
from tests.bench._expected import expected_response
from tests.bench._supergraph import CHECKED_IN, bench_supergraph, placeholder_urls, with_urls
from tests.bench.subgraphs.serve import NAMES, SubgraphApp, SubgraphsApp, subgraph_schema

HEAVY = (Path(__file__).resolve().parent / "queries" / "heavy.graphql").read_text()
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { inStock shippingEstimate } } }"


def test_heavy_query_answers_the_reference_workload_size() -> None:
    # the public graphql-gateways-benchmark heavy query answers 87,599 bytes of compact JSON
    answer = expected_response(HEAVY)

    assert len(json.dumps(answer, separators=(",", ":")).encode()) == 87_599
    assert len(answer["data"]["users"]) == 6 and len(answer["data"]["topProducts"]) == 5


def test_oracle_rejects_a_query_outside_the_schema() -> None:
    with pytest.raises(ValueError, match="oracle rejects"):
        expected_response("{ nope }")


def test_inventory_answers_null_estimate_only_with_the_right_requires_fields() -> None:
    representations = [
        {"__typename": "Product", "upc": "1", "price": 899, "weight": 100},
        {"__typename": "Product", "upc": "2"},
        {"__typename": "Product", "upc": "3", "price": 15, "weight": 21},
    ]

    result = subgraph_schema("inventory").execute_sync(ENTITIES, variable_values={"r": representations})

    assert result.data == {"_entities": [
        {"inStock": True, "shippingEstimate": None},
        {"inStock": False, "shippingEstimate": None},
        {"inStock": False, "shippingEstimate": None},
    ]}
    assert [(error.path, error.message) for error in result.errors or []] == [
        (["_entities", 1, "shippingEstimate"],
         "shippingEstimate: representation lacks @requires fields price and weight"),
        (["_entities", 2, "shippingEstimate"], "shippingEstimate: wrong price/weight for product 3"),
    ]


async def test_subgraph_app_memoises_only_successful_answers() -> None:
    app = SubgraphApp(subgraph_schema("inventory"))
    good = orjson.dumps({"query": ENTITIES, "variables": {"r": [{"__typename": "Product", "upc": "1",
                                                                 "price": 899, "weight": 100}]}})
    bad = orjson.dumps({"query": ENTITIES, "variables": {"r": [{"__typename": "Product", "upc": "1"}]}})

    answers = [await app.answer(body) for body in (good, good, bad, bad)]

    assert answers[0] == answers[1] == (200, b'{"data":{"_entities":[{"inStock":true,"shippingEstimate":null}]}}')
    assert b"lacks @requires" in answers[3][1]
    assert app.counters["cache_hits"] == 1 and app.counters["errors"] == 2
    assert list(app.responses) == [good]
    assert await app.answer(b"not json") == (400, b'{"errors":[{"message":"body is not a GraphQL request"}]}')


def test_composed_and_checked_in_supergraphs_route_to_the_given_urls() -> None:
    urls = {name: f"http://127.0.0.1:{5000 + i}/graphql" for i, name in enumerate(NAMES)}

    for prefer in ("compose", "checked-in"):
        supergraph = bench_supergraph(urls, prefer=prefer)
        assert supergraph.note == ""
        model = parse_supergraph(supergraph.sdl)
        assert {name: graph.url for name, graph in model.subgraphs.items()} == urls


def test_with_urls_rewrites_only_join_graph_urls() -> None:
    sdl = CHECKED_IN.read_text()
    moved = with_urls(sdl, {"reviews": "http://elsewhere/graphql"})

    assert moved.replace("http://elsewhere/graphql", placeholder_urls()["reviews"]) == sdl
    assert moved.count("http://elsewhere/graphql") == 1


async def test_subgraphs_app_routes_by_path_and_sums_counters() -> None:
    import httpx

    app = SubgraphsApp(("accounts", "products"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        me = await client.post("/accounts/graphql", json={"query": "{ me { username } }"})
        top = await client.post("/products/graphql", json={"query": "{ topProducts(first: 1) { name } }"})
        missing = await client.post("/reviews/graphql", json={"query": "{ __typename }"})
        stats = await client.get("/stats")

    assert me.json() == {"data": {"me": {"username": "alpha"}}}
    assert top.json() == {"data": {"topProducts": [{"name": "Table"}]}}
    assert missing.status_code == 404
    assert stats.json() == {"requests": 2, "cache_hits": 0, "errors": 0}


def test_a_failing_composer_falls_back_to_the_checked_in_supergraph(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.bench._supergraph as module

    def broken(urls: dict[str, str]) -> str:
        raise RuntimeError("INVALID_FIELD_SHARING: User.username")

    monkeypatch.setattr(module, "compose_ours", broken)
    urls = {name: f"http://127.0.0.1:{6000 + i}/graphql" for i, name in enumerate(NAMES)}

    supergraph = bench_supergraph(urls)

    assert supergraph.source == "checked-in"
    assert supergraph.note == ("our composer failed (RuntimeError: INVALID_FIELD_SHARING: User.username); "
                               "used the checked-in supergraph")
    assert supergraph.sdl == with_urls(CHECKED_IN.read_text(), urls)
