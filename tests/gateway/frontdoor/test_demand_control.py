"""Demand control: static cost from @cost and @listSize on a composed supergraph, refused in
enforce mode before any subgraph is called, measured in metrics and extensions.cost."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from gateway.executor.cost import CostError, estimate_cost
from gateway.supergraph import build_api_schema
from gateway.supergraph.directives import read_front_door
from tests.gateway.frontdoor._guarded import composed_supergraph, guarded_stack

BOMB = "{ users { friends(first: 100) { friends(first: 100) { friends(first: 100) { name } } } } }"


def _cost(query: str, variables: dict[str, Any] | None = None, *, default_list_size: int = 10) -> int:
    sdl = composed_supergraph()
    document = parse(query)
    operation = document.definitions[0]
    fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    return estimate_cost(build_api_schema(sdl), read_front_door(sdl), operation,  # type: ignore[arg-type]
                         fragments=fragments, variables=variables or {},
                         default_list_size=default_list_size)


@pytest.mark.parametrize(("query", "variables", "expected"), [
    ("{ me { name id } }", None, 1),  # object 1, scalars 0
    ("{ me { score } }", None, 1 + 5),  # @cost(weight: 5)
    ("{ users { name } }", None, 50),  # assumedSize
    ("{ me { friends { name } } }", None, 1 + 10),  # slicing argument's default (first = 10)
    ("{ me { friends(first: 3) { friends(first: 4) { name } } } }", None, 1 + 3 * (1 + 4)),
    ("query($n: Int!) { me { friends(first: $n) { name } } }", {"n": 40}, 1 + 40),
    ("{ people(first: 7) { nodes { name } total } }", None, 1 + 7),  # sizedFields
    ("{ me { ...F } } fragment F on User { friends(first: 2) { score } }", None, 1 + 2 * (1 + 5)),
    (BOMB, None, 50 * (1 + 100 * (1 + 100 * (1 + 100)))),
])
def test_static_cost(query: str, variables: dict[str, Any] | None, expected: int) -> None:
    assert _cost(query, variables) == expected


def test_a_required_slicing_argument_must_be_given() -> None:
    with pytest.raises(CostError, match="people"):
        _cost("query($n: Int) { people(first: $n) { total } }")


async def test_enforce_refuses_the_breadth_bomb_before_any_fetch() -> None:
    async with guarded_stack(demand_control_mode="enforce", max_cost=1000) as stack:
        response = await stack.post(BOMB)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
        assert error["extensions"]["cost"] == {"estimated": 50_505_050, "max": 1000}
        assert stack.calls("accounts") == stack.calls("private") == []
        cheap = await stack.post("{ me { friends(first: 3) { name } } }")
        assert cheap.json() == {"data": {"me": {"friends": [{"name": "friend 0"}, {"name": "friend 1"},
                                                            {"name": "friend 2"}]}}}
        metrics = (await stack.http.get("/metrics")).text
        assert "gateway_cost_refused_total 1.0" in metrics


async def test_measure_mode_runs_it_and_reports_the_cost() -> None:
    async with guarded_stack(max_cost=1000, cost_in_extensions=True) as stack:
        body = (await stack.post("{ me { friends(first: 2) { score } } }")).json()
        assert body["data"] == {"me": {"friends": [{"score": 7}, {"score": 7}]}}
        assert body["extensions"] == {"cost": {"estimated": 13}}
        bomb = await stack.post(BOMB)
        assert bomb.status_code == 200 and bomb.json()["extensions"]["cost"]["estimated"] == 50_505_050
        metrics = (await stack.http.get("/metrics")).text
        assert 'gateway_operation_cost_count{kind="query"} 2.0' in metrics
        assert 'gateway_operation_cost_sum{kind="query"} 5.0505063e+07' in metrics
        # one document, priced again for each request's variables (a fixed cost is kept only
        # for operations without variables)
        sliced = "query($n: Int!) { me { friends(first: $n) { name } } }"
        costs = [(await stack.post(sliced, variables={"n": n})).json()["extensions"]["cost"]["estimated"]
                 for n in (2, 50, 2)]
        assert costs == [3, 51, 3]
        again = (await stack.post("{ me { friends(first: 2) { score } } }")).json()
        assert again["extensions"] == {"cost": {"estimated": 13}}
