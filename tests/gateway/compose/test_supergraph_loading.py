"""Our supergraphs load in Apollo's runtime and in our gateway, with the same API schema."""

from __future__ import annotations

import pytest
from graphql import build_schema, lexicographic_sort_schema, print_schema

from gateway.compose import compose
from gateway.supergraph import build_api_schema, parse_supergraph
from tests.gateway.compose._harness import (
    case_dirs,
    ensure_oracle_installed,
    load_case,
    load_in_apollo,
    node_missing_reason,
)

VALID = case_dirs("valid")


@pytest.fixture(scope="module")
def ours() -> dict[str, str]:
    supergraphs = {}
    for case in VALID:
        result = compose(load_case(case))
        assert result.supergraph_sdl is not None, (case.name, result.errors)
        supergraphs[case.name] = result.supergraph_sdl
    return supergraphs


@pytest.fixture(scope="module")
def apollo_loaded(ours) -> dict[str, dict]:
    reason = node_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    ensure_oracle_installed()
    return load_in_apollo(ours)


def sorted_sdl(schema) -> str:
    # Directive definitions are left out: whether a @composeDirective'd directive belongs to the
    # API schema is the gateway's call (ours keeps it, Apollo's drops it); types must agree.
    printed = print_schema(lexicographic_sort_schema(schema)).split("\n\n")
    return "\n\n".join(block for block in printed if not block.startswith("directive @"))


@pytest.mark.node
@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_apollo_and_our_gateway_load_our_supergraph_identically(case, ours, apollo_loaded) -> None:
    loaded = apollo_loaded[case.name]
    assert loaded["ok"], loaded["error"]
    assert sorted(loaded["subgraphs"]) == sorted(s.name for s in load_case(case))
    # Apollo Gateway (unlike the Router) refuses supergraphs using the SECURITY specs.
    router_only = any(
        f"https://specs.apollo.dev/{spec}/" in ours[case.name]
        for spec in ("authenticated", "requiresScopes", "policy", "context")
    )
    assert loaded["gatewaySupported"] is not router_only
    parse_supergraph(ours[case.name])
    assert sorted_sdl(build_api_schema(ours[case.name])) == sorted_sdl(
        build_schema(loaded["apiSchema"])
    )
