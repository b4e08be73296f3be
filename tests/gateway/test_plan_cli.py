"""`python -m gateway plan`: the readable plan, --json for tools, and clear errors."""

from __future__ import annotations

import json

from gateway.__main__ import main
from tests.gateway.fixtures.registry import supergraph_path


def test_plan_json(capsys):
    code = main(["plan", "--supergraph", str(supergraph_path("shop")), "--json", '{ product(upc: "1") { inStock } }'])
    assert code == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["kind"] == "QueryPlan"
    assert plan["operationKind"] == "query"
    sequence = plan["node"]
    assert sequence["kind"] == "Sequence"
    assert [n["kind"] for n in sequence["nodes"]] == ["Fetch", "Flatten"]
    assert sequence["nodes"][0]["serviceName"] == "products"
    flatten = sequence["nodes"][1]
    assert flatten["path"] == ["product"]
    assert flatten["node"]["serviceName"] == "inventory"
    assert flatten["node"]["requires"] == [
        {
            "kind": "InlineFragment",
            "typeCondition": "Product",
            "typename": "Product",
            "selections": [
                {"kind": "Field", "name": "sku", "source": "sku", "selections": None},
                {"kind": "Field", "name": "package", "source": "package", "selections": None},
            ],
        }
    ]


def test_plan_readable(capsys):
    assert main(["plan", "--supergraph", str(supergraph_path("shop")), "{ me { id } }"]) == 0
    assert capsys.readouterr().out == (
        'QueryPlan {\n  Fetch(service: "accounts") {\n    {\n      me {\n        id\n      }\n    }\n  },\n}\n'
    )


def test_plan_of_an_invalid_operation(capsys):
    assert main(["plan", "--supergraph", str(supergraph_path("shop")), "{ me { birthYear } }"]) == 1
    assert capsys.readouterr().err == "error: Cannot query field 'birthYear' on type 'User'.\n"
