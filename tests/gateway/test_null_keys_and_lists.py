"""Null keys are never fetched; lists, nested lists and non-null wrapping come back in shape."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_entity_with_null_key_fields_is_not_fetched(shop, shop_server):
    # upc 4 has sku and package null: it has no compound key, so inventory never sees it
    result = await post(shop, "{ topProducts { upc inStock } }")
    assert result == {
        "data": {
            "topProducts": [
                {"upc": "1", "inStock": True},
                {"upc": "2", "inStock": False},
                {"upc": "3", "inStock": True},
                {"upc": "4", "inStock": None},
            ]
        }
    }
    (inventory,) = shop_server.calls("inventory")
    assert [r.get("sku") for r in inventory.variables["representations"]] == ["TBL", "CCH", "CHR"]


async def test_null_entity_reference_is_not_fetched(shop, shop_server):
    # upc 3 has no creator: accounts is asked about the others only
    result = await post(shop, "{ topProducts { createdBy { username } } }")
    assert result == {
        "data": {
            "topProducts": [
                {"createdBy": {"username": "ada"}},
                {"createdBy": {"username": "alan"}},
                {"createdBy": None},
                {"createdBy": {"username": "grace"}},
            ]
        }
    }
    assert shop_server.calls("accounts")[0].variables["representations"] == [
        {"__typename": "User", "email": "ada@example.com"},
        {"__typename": "User", "email": "alan@example.com"},
        {"__typename": "User", "email": "grace@example.com"},
    ]


async def test_no_entity_fetch_when_nothing_to_fetch(shop, shop_server):
    result = await post(shop, '{ product(upc: "404") { upc inStock reviews { id } } }')
    assert result == {"data": {"product": None}}
    assert [c.subgraph for c in shop_server.calls()] == ["products"]


async def test_nested_lists_of_entities(shop, shop_server):
    result = await post(shop, '{ product(upc: "1") { reviewsByRating { rating author { email } } } }')
    assert result == {
        "data": {
            "product": {
                "reviewsByRating": [
                    [{"rating": 5, "author": {"email": "ada@example.com"}}],
                    [{"rating": 2, "author": {"email": "alan@example.com"}}],
                ]
            }
        }
    }
    assert shop_server.calls("accounts")[0].variables["representations"] == [
        {"__typename": "User", "id": "1"},
        {"__typename": "User", "id": "2"},
    ]


async def test_empty_lists(shop, shop_server):
    result = await post(shop, '{ product(upc: "4") { reviews { id author { email } } reviewsByRating { id } } }')
    assert result == {"data": {"product": {"reviews": [], "reviewsByRating": []}}}
    assert "accounts" not in [c.subgraph for c in shop_server.calls()]


async def test_lists_across_three_subgraphs(shop):
    result = await post(shop, "{ users { reviews { product { upc shippingEstimate } } } }")
    assert result == {
        "data": {
            "users": [
                {"reviews": [{"product": {"upc": "1", "shippingEstimate": 50}}, {"product": {"upc": "2", "shippingEstimate": 0}}]},
                {"reviews": [{"product": {"upc": "1", "shippingEstimate": 50}}]},
                {"reviews": [{"product": {"upc": "3", "shippingEstimate": 25}}]},
            ]
        }
    }
