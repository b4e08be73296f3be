"""@requires: the required fields are fetched first and sent in the representation."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_requires_flat_fields(shop, shop_server):
    result = await post(shop, "{ topProducts(first: 2) { name shippingEstimate } }")
    assert result == {
        "data": {"topProducts": [{"name": "Table", "shippingEstimate": 50}, {"name": "Couch", "shippingEstimate": 0}]}
    }
    (inventory,) = shop_server.calls("inventory")
    assert inventory.variables["representations"] == [
        {"__typename": "Product", "sku": "TBL", "package": "box", "price": 899, "weight": 100},
        {"__typename": "Product", "sku": "CCH", "package": "crate", "price": 1299, "weight": 1000},
    ]
    assert [c.subgraph for c in shop_server.calls()] == ["products", "inventory"]


async def test_requires_nested_selection(shop, shop_server):
    result = await post(shop, "{ product(upc: \"3\") { packaging } }")
    assert result == {"data": {"product": {"packaging": "small/0.5"}}}
    assert shop_server.calls("inventory")[0].variables["representations"] == [
        {"__typename": "Product", "sku": "CHR", "package": "box", "dimensions": {"size": "small", "volume": 0.5}}
    ]


async def test_requires_on_a_field_with_arguments(shop, shop_server):
    result = await post(
        shop,
        'query($zip: String!) { product(upc: "2") { deliveryEstimate(zip: $zip) fast: deliveryEstimate(zip: "75001", express: true) } }',
        {"zip": "10115"},
    )
    assert result == {"data": {"product": {"deliveryEstimate": "10115:12d", "fast": "75001:1d"}}}
    (inventory,) = shop_server.calls("inventory")
    assert inventory.variables["representations"] == [
        {"__typename": "Product", "sku": "CCH", "package": "crate", "weight": 1000}
    ]
    assert inventory.variables["zip"] == "10115"


async def test_requires_of_an_inaccessible_field(shop, shop_server):
    # User.birthYear is @inaccessible to clients, yet reviews may still require it
    result = await post(shop, "{ users { username ageIn2000 } }")
    assert result == {
        "data": {
            "users": [
                {"username": "ada", "ageIn2000": 185},
                {"username": "alan", "ageIn2000": 88},
                {"username": "grace", "ageIn2000": 94},
            ]
        }
    }
    assert shop_server.calls("reviews")[0].variables["representations"] == [
        {"__typename": "User", "id": "1", "birthYear": 1815},
        {"__typename": "User", "id": "2", "birthYear": 1912},
        {"__typename": "User", "id": "3", "birthYear": 1906},
    ]


async def test_requires_after_an_entity_hop(shop, shop_server):
    # reviews -> products (price, weight, sku, package) -> inventory
    result = await post(shop, "{ review(id: \"r1\") { body product { shippingEstimate inStock } } }")
    assert result == {"data": {"review": {"body": "Love it!", "product": {"shippingEstimate": 50, "inStock": True}}}}
    assert [c.subgraph for c in shop_server.calls()] == ["reviews", "products", "inventory"]
    assert len(shop_server.calls("inventory")) == 1
