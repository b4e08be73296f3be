"""Variables with defaults, and @skip/@include with literals and variables."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import post

QUERY = """
query Card($upc: String!, $withReviews: Boolean!, $hideStock: Boolean = true) {
  product(upc: $upc) {
    name
    inStock @skip(if: $hideStock)
    reviews @include(if: $withReviews) { body }
  }
}
"""


async def test_variable_default_applies(shop):
    result = await post(shop, "query($n: Int = 2) { topProducts(first: $n) { upc } }")
    assert result == {"data": {"topProducts": [{"upc": "1"}, {"upc": "2"}]}}


async def test_variable_overrides_default(shop):
    result = await post(shop, "query($n: Int = 2) { topProducts(first: $n) { upc } }", {"n": 1})
    assert result == {"data": {"topProducts": [{"upc": "1"}]}}


async def test_argument_default_in_subgraph_schema(shop):
    result = await post(shop, "{ topProducts { upc } }")
    assert [p["upc"] for p in result["data"]["topProducts"]] == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("variables", "expected", "subgraphs"),
    [
        ({"upc": "1", "withReviews": False}, {"name": "Table"}, ["products"]),
        ({"upc": "1", "withReviews": False, "hideStock": False}, {"name": "Table", "inStock": True},
         ["products", "inventory"]),
        ({"upc": "2", "withReviews": True}, {"name": "Couch", "reviews": [{"body": "Could be better."}]},
         ["products", "reviews"]),
    ],
)
async def test_skip_include_with_variables_decide_fetches(shop, shop_server, variables, expected, subgraphs):
    result = await post(shop, QUERY, variables)
    assert result == {"data": {"product": expected}}
    assert sorted(c.subgraph for c in shop_server.calls()) == sorted(subgraphs)


async def test_skip_include_literals(shop, shop_server):
    result = await post(
        shop,
        '{ product(upc: "1") { name @skip(if: true) upc @include(if: true) inStock @include(if: false) '
        "... on Product @skip(if: false) { price } } }",
    )
    assert result == {"data": {"product": {"upc": "1", "price": 899}}}
    assert [c.subgraph for c in shop_server.calls()] == ["products"]


async def test_skip_and_include_together(shop):
    query = "query($s: Boolean!, $i: Boolean!) { product(upc: \"1\") { upc name @skip(if: $s) @include(if: $i) } }"
    assert await post(shop, query, {"s": False, "i": True}) == {"data": {"product": {"upc": "1", "name": "Table"}}}
    assert await post(shop, query, {"s": True, "i": True}) == {"data": {"product": {"upc": "1"}}}
    assert await post(shop, query, {"s": False, "i": False}) == {"data": {"product": {"upc": "1"}}}


async def test_include_on_a_root_field_and_an_entity_field(shop, shop_server):
    query = """
    query($more: Boolean!) {
      product(upc: "3") { upc shippingEstimate @include(if: $more) }
      latestReviews @include(if: $more) { id }
    }
    """
    assert await post(shop, query, {"more": False}) == {"data": {"product": {"upc": "3"}}}
    assert "reviews" not in [c.subgraph for c in shop_server.calls()]
    result = await post(shop, query, {"more": True})
    assert result == {
        "data": {
            "product": {"upc": "3", "shippingEstimate": 25},
            "latestReviews": [{"id": "r1"}, {"id": "r2"}, {"id": "r3"}, {"id": "r4"}],
        }
    }


@pytest.mark.parametrize(
    "selection",
    ["...More @include(if: $more)", "... @include(if: $more) { shippingEstimate }"],
    ids=["spread", "inline"],
)
async def test_include_on_a_fragment_inside_an_entity_fetch(shop, selection):
    query = f"""
    query($more: Boolean!) {{ product(upc: "3") {{ upc {selection} }} }}
    fragment More on Product {{ shippingEstimate }}
    """
    if "...More" not in selection:
        query = query.split("fragment")[0]
    assert await post(shop, query, {"more": False}) == {"data": {"product": {"upc": "3"}}}
    assert await post(shop, query, {"more": True}) == {"data": {"product": {"upc": "3", "shippingEstimate": 25}}}


async def test_variables_forwarded_to_entity_fetches(shop, shop_server):
    result = await post(
        shop,
        "query($zip: String!, $express: Boolean) { product(upc: \"1\") { deliveryEstimate(zip: $zip, express: $express) } }",
        {"zip": "999", "express": True},
    )
    assert result == {"data": {"product": {"deliveryEstimate": "999:1d"}}}
    inventory = shop_server.calls("inventory")[0]
    assert {k: v for k, v in inventory.variables.items() if k != "representations"} == {"zip": "999", "express": True}


async def test_missing_required_variable_is_a_bad_request(shop):
    response = await shop.post("/graphql", json={"query": QUERY, "variables": {"upc": "1"}})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Variable '$withReviews' of required type 'Boolean!' was not provided.",
                "locations": [{"line": 2, "column": 27}],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_include_on_the_first_root_field_leaves_its_fetch_siblings_alone(shop):
    query = "query($b: Boolean!) { me @include(if: $b) { id } users { id } }"
    assert await post(shop, query, {"b": False}) == {"data": {"users": [{"id": "1"}, {"id": "2"}, {"id": "3"}]}}
    assert await post(shop, query, {"b": True}) == {
        "data": {"me": {"id": "1"}, "users": [{"id": "1"}, {"id": "2"}, {"id": "3"}]}
    }


async def test_response_order_skips_a_skipped_first_occurrence(shop):
    query = "query($s: Boolean!) { me { name @skip(if: $s) id name } }"
    skipped = await post(shop, query, {"s": True})
    assert list(skipped["data"]["me"]) == ["id", "name"]
    kept = await post(shop, query, {"s": False})
    assert list(kept["data"]["me"]) == ["name", "id"]
