"""Supergraph SDL -> model: Federation 2 (`@link`, join v0.3) and Federation 1 (`@core`, join v0.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, print_schema

from gateway.planner import QueryPlanner, print_plan
from gateway.supergraph import SupergraphError, build_api_schema, parse_supergraph

FIXTURES = Path(__file__).parents[1] / "planner" / "fixtures"


def test_federation_1_supergraph_owner_fields_and_keys() -> None:
    sdl = (FIXTURES / "fed1.supergraph.graphql").read_text(encoding="utf-8")
    model = parse_supergraph(sdl)
    assert model.join_version == (0, 1)
    assert list(model.subgraphs) == ["accounts", "inventory", "products", "reviews"]
    product = model.types["Product"]
    assert product.fields["shippingEstimate"].joins["inventory"].requires == "price weight"
    assert set(product.fields["reviews"].joins) == {"reviews"}
    api = print_schema(build_api_schema(sdl))
    assert "join__" not in api and "@core" not in api


def test_federation_1_supergraph_plans_requires_and_provides() -> None:
    sdl = (FIXTURES / "fed1.supergraph.graphql").read_text(encoding="utf-8")
    planner = QueryPlanner(parse_supergraph(sdl), build_api_schema(sdl))
    plan = print_plan(planner.plan(parse("{ topProducts { name shippingEstimate reviews { author { username } } } }")))
    # username is provided by reviews: no accounts fetch; shippingEstimate needs price and weight first
    assert 'Fetch(service: "accounts")' not in plan
    assert plan.index('Fetch(service: "products")') < plan.index('Fetch(service: "inventory")')
    assert "price\n" in plan and "weight\n" in plan


def test_api_schema_hides_inaccessible_and_machinery() -> None:
    sdl = (FIXTURES / "mixed" / "supergraph.graphql").read_text(encoding="utf-8")
    api = print_schema(build_api_schema(sdl))
    assert "secret" not in api  # @inaccessible field
    assert "join__" not in api and "link__" not in api and "@link" not in api
    assert "type User implements Node" in api


def test_not_a_supergraph_is_a_clear_error() -> None:
    with pytest.raises(SupergraphError, match="no schema definition"):
        parse_supergraph("type Query { a: Int }")
    with pytest.raises(SupergraphError, match="does not parse"):
        parse_supergraph("type Query {")
