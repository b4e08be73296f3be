"""Progressive @override: who resolves a labelled field depends on the request's active labels."""

from __future__ import annotations

import itertools

from graphql import parse

from gateway.compose import SubgraphSource, compose
from gateway.executor.engine import Engine
from gateway.executor.fetch import HttpSubgraphClient
from gateway.planner import QueryPlanner, print_plan
from gateway.supergraph import build_api_schema, parse_supergraph

LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@override"])'
PRODUCTS = LINK + """
type Query { product(id: ID!): Product }
type Product @key(fields: "id") { id: ID! name: String! price: Int! stock: Int! }
"""
PRICING = LINK + """
type Product @key(fields: "id") {
  id: ID!
  price: Int! @override(from: "products", label: "percent(25)")
  stock: Int! @override(from: "products", label: "inventory-v2")
}
"""
QUERY = '{ product(id: "1") { name price } }'


def supergraph() -> str:
    result = compose([SubgraphSource(name="products", url="http://127.0.0.1:1/graphql", sdl=PRODUCTS),
                      SubgraphSource(name="pricing", url="http://127.0.0.1:2/graphql", sdl=PRICING)])
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


def services(plan: str) -> list[str]:
    return [line.split('"')[1] for line in plan.splitlines() if "Fetch(service:" in line]


def test_the_label_decides_which_subgraph_resolves_the_field() -> None:
    sdl = supergraph()
    planner = QueryPlanner(parse_supergraph(sdl), build_api_schema(sdl))
    assert planner.override_labels == {"percent(25)", "inventory-v2"}
    off = print_plan(planner.plan(parse(QUERY)))
    on = print_plan(planner.plan(parse(QUERY), active_labels=frozenset({"percent(25)"})))
    assert services(off) == ["products"]  # the field stays with the subgraph it comes from
    assert services(on) == ["products", "pricing"]  # the new owner, through the key
    assert "price" in on.split('Fetch(service: "pricing")')[1]
    assert "price" not in on.split('Fetch(service: "pricing")')[0]
    # a label the supergraph does not have changes nothing; each label only moves its field
    assert print_plan(planner.plan(parse(QUERY), active_labels=frozenset({"other"}))) == off
    assert services(print_plan(planner.plan(parse('{ product(id: "1") { stock } }'),
                                            active_labels=frozenset({"percent(25)"})))) == ["products"]


def test_percent_labels_are_drawn_per_request_and_named_labels_come_from_settings() -> None:
    draws = itertools.cycle([0.10, 0.30, 0.249, 0.9])  # active when draw * 100 < 25
    engine = Engine(supergraph(), HttpSubgraphClient(), random=lambda: next(draws),
                    override_labels=frozenset({"inventory-v2"}))
    plans = [services(print_plan(engine.prepare(QUERY, None).plan)) for _ in range(4)]
    assert plans == [["products", "pricing"], ["products"], ["products", "pricing"], ["products"]]
    assert [engine.active_labels() for _ in range(2)] == [
        frozenset({"percent(25)", "inventory-v2"}), frozenset({"inventory-v2"})]
    stock = '{ product(id: "1") { stock } }'
    assert services(print_plan(engine.prepare(stock, None).plan)) == ["products", "pricing"]
    off = Engine(supergraph(), HttpSubgraphClient(), random=lambda: 0.99)
    assert off.active_labels() == frozenset()
    assert services(print_plan(off.prepare(stock, None).plan)) == ["products"]


def test_plans_are_cached_per_label_set() -> None:
    draws = itertools.cycle([0.1, 0.9])
    engine = Engine(supergraph(), HttpSubgraphClient(), random=lambda: next(draws))
    on, off, on_again, off_again = (engine.prepare(QUERY, None) for _ in range(4))
    assert on is on_again and off is off_again  # cache hits, one entry per label set
    assert services(print_plan(on.plan)) == ["products", "pricing"]
    assert services(print_plan(off.plan)) == ["products"]


def test_the_plan_command_plans_with_the_labels_it_is_given(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from gateway.__main__ import main

    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph(), encoding="utf-8")
    assert main(["plan", "--supergraph", str(path), QUERY]) == 0
    assert services(capsys.readouterr().out) == ["products"]
    assert main(["plan", "--supergraph", str(path), "--label", "percent(25)", QUERY]) == 0
    assert services(capsys.readouterr().out) == ["products", "pricing"]
