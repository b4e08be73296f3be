"""@override: the overriding subgraph owns the field; the overridden one is never asked for it."""

from __future__ import annotations

import re

from tests.gateway.conftest import post


async def test_overridden_field_comes_from_the_new_owner(shop, shop_server):
    result = await post(shop, "{ me { id name } }")
    assert result == {"data": {"me": {"id": "1", "name": "Ada (from reviews)"}}}
    assert [c.subgraph for c in shop_server.calls()] == ["accounts", "reviews"]
    assert not re.search(r"\bname\b", shop_server.calls("accounts")[0].query)


async def test_overridden_field_through_another_key(shop, shop_server):
    # products knows the creator only by email; accounts turns it into an id for reviews
    result = await post(shop, "{ product(upc: \"1\") { createdBy { name } } }")
    assert result == {"data": {"product": {"createdBy": {"name": "Ada (from reviews)"}}}}
    assert [c.subgraph for c in shop_server.calls()] == ["products", "accounts", "reviews"]
