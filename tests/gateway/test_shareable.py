"""@shareable: a field several subgraphs resolve comes from whichever one saves fetches."""

from __future__ import annotations

import re

from tests.gateway.conftest import post


async def test_shareable_field_from_the_subgraph_already_being_asked(shop, shop_server):
    result = await post(shop, "{ latestReviews { product { upc name } } }")
    assert result == {
        "data": {
            "latestReviews": [
                {"product": {"upc": "1", "name": "Table"}},
                {"product": {"upc": "1", "name": "Table"}},
                {"product": {"upc": "2", "name": "Couch"}},
                {"product": {"upc": "3", "name": "Chair"}},
            ]
        }
    }
    assert [c.subgraph for c in shop_server.calls()] == ["reviews"]


async def test_shareable_field_from_the_root_subgraph(shop, shop_server):
    result = await post(shop, "{ topProducts(first: 1) { name reviews { body } } }")
    assert result == {"data": {"topProducts": [{"name": "Table", "reviews": [{"body": "Love it!"}, {"body": "Too expensive."}]}]}}
    assert [c.subgraph for c in shop_server.calls()] == ["products", "reviews"]
    assert not re.search(r"\bname\b", shop_server.calls("reviews")[0].query)


async def test_shareable_value_type_from_either_subgraph(shop, shop_server):
    result = await post(shop, "{ warehouses { location { country code } capacity } }")
    assert result == {
        "data": {
            "warehouses": [
                {"location": {"country": "FR", "code": "PAR"}, "capacity": 120},
                {"location": {"country": "DE", "code": "BER"}, "capacity": 40},
            ]
        }
    }
    assert [c.subgraph for c in shop_server.calls()] == ["inventory"]
