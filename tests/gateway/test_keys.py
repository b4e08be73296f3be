"""Entity keys: single, several per type, compound, nested, `resolvable: false`."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_single_key_joins_reviews_to_products(shop, shop_server):
    result = await post(shop, "{ product(upc: \"1\") { upc name reviews { id body } } }")
    assert result == {
        "data": {
            "product": {
                "upc": "1",
                "name": "Table",
                "reviews": [{"id": "r1", "body": "Love it!"}, {"id": "r2", "body": "Too expensive."}],
            }
        }
    }
    assert [c.subgraph for c in shop_server.calls()] == ["products", "reviews"]
    assert shop_server.calls("reviews")[0].variables["representations"] == [{"__typename": "Product", "upc": "1"}]


async def test_compound_key_fetches_by_sku_and_package(shop, shop_server):
    result = await post(shop, "{ topProducts(first: 3) { upc inStock } }")
    assert result == {
        "data": {
            "topProducts": [
                {"upc": "1", "inStock": True},
                {"upc": "2", "inStock": False},
                {"upc": "3", "inStock": True},
            ]
        }
    }
    (inventory,) = shop_server.calls("inventory")
    assert inventory.variables["representations"] == [
        {"__typename": "Product", "sku": "TBL", "package": "box"},
        {"__typename": "Product", "sku": "CCH", "package": "crate"},
        {"__typename": "Product", "sku": "CHR", "package": "box"},
    ]


async def test_entity_reached_from_another_subgraph_by_its_second_key(shop, shop_server):
    # reviews knows products only by upc; inventory only by sku+package: products bridges the keys
    result = await post(shop, "{ review(id: \"r3\") { product { upc inStock } } }")
    assert result == {"data": {"review": {"product": {"upc": "2", "inStock": False}}}}
    assert [c.subgraph for c in shop_server.calls()] == ["reviews", "products", "inventory"]
    assert shop_server.calls("products")[0].variables["representations"] == [{"__typename": "Product", "upc": "2"}]
    assert shop_server.calls("inventory")[0].variables["representations"] == [
        {"__typename": "Product", "sku": "CCH", "package": "crate"}
    ]


async def test_several_keys_per_type_and_resolvable_false(shop, shop_server):
    # products references User only by email (resolvable: false); accounts resolves by email
    result = await post(shop, "{ product(upc: \"2\") { createdBy { email username } } }")
    assert result == {"data": {"product": {"createdBy": {"email": "alan@example.com", "username": "alan"}}}}
    assert shop_server.calls("accounts")[0].variables["representations"] == [
        {"__typename": "User", "email": "alan@example.com"}
    ]


async def test_key_with_nested_fields(shop, shop_server):
    result = await post(shop, "{ topProducts(first: 2) { warehouse { location { country code } capacity } } }")
    assert result == {
        "data": {
            "topProducts": [
                {"warehouse": {"location": {"country": "FR", "code": "PAR"}, "capacity": 120}},
                {"warehouse": {"location": {"country": "DE", "code": "BER"}, "capacity": 40}},
            ]
        }
    }
    assert shop_server.calls("inventory")[0].variables["representations"] == [
        {"__typename": "Warehouse", "location": {"country": "FR", "code": "PAR"}},
        {"__typename": "Warehouse", "location": {"country": "DE", "code": "BER"}},
    ]


async def test_representations_are_deduplicated(shop, shop_server):
    # upc 1 and upc 4 are both in warehouse FR/PAR: one representation for both
    result = await post(shop, "{ topProducts { upc warehouse { capacity } } }")
    assert result == {
        "data": {
            "topProducts": [
                {"upc": "1", "warehouse": {"capacity": 120}},
                {"upc": "2", "warehouse": {"capacity": 40}},
                {"upc": "3", "warehouse": None},
                {"upc": "4", "warehouse": {"capacity": 120}},
            ]
        }
    }
    (inventory,) = shop_server.calls("inventory")
    assert inventory.variables["representations"] == [
        {"__typename": "Warehouse", "location": {"country": "FR", "code": "PAR"}},
        {"__typename": "Warehouse", "location": {"country": "DE", "code": "BER"}},
    ]


async def test_entity_not_resolved_by_its_subgraph_is_null(shop, shop_server):
    result = await post(shop, "{ user(id: \"3\") { username reviews { body } } }")
    assert result == {"data": {"user": {"username": "grace", "reviews": [{"body": "Prefer something else."}]}}}
