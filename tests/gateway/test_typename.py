"""__typename anywhere: root types, entities fetched elsewhere, nested values."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_typename_on_query_root_alone(shop, shop_server):
    assert await post(shop, "{ __typename }") == {"data": {"__typename": "Query"}}
    assert shop_server.calls() == []


async def test_typename_on_mutation_root(shop, shop_server):
    assert await post(shop, "mutation { __typename }") == {"data": {"__typename": "Mutation"}}
    assert shop_server.calls() == []


async def test_typename_mixed_with_fields_and_aliased(shop):
    result = await post(
        shop,
        '{ t: __typename product(upc: "1") { __typename kind: __typename dimensions { __typename size } '
        "reviews { __typename author { __typename } } } }",
    )
    assert result == {
        "data": {
            "t": "Query",
            "product": {
                "__typename": "Product",
                "kind": "Product",
                "dimensions": {"__typename": "Dimensions", "size": "large"},
                "reviews": [
                    {"__typename": "Review", "author": {"__typename": "User"}},
                    {"__typename": "Review", "author": {"__typename": "User"}},
                ],
            },
        }
    }


async def test_typename_only_selection_on_an_entity_needs_no_entity_fetch(shop, shop_server):
    result = await post(shop, '{ review(id: "r1") { product { __typename } } }')
    assert result == {"data": {"review": {"product": {"__typename": "Product"}}}}
    assert [c.subgraph for c in shop_server.calls()] == ["reviews"]
