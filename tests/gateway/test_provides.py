"""@provides: a subgraph that provides a field saves the fetch to its owner."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_provided_field_needs_no_extra_fetch(shop, shop_server):
    result = await post(shop, "{ latestReviews { author { username } } }")
    assert result == {
        "data": {
            "latestReviews": [
                {"author": {"username": "ada"}},
                {"author": {"username": "alan"}},
                {"author": {"username": "ada"}},
                {"author": {"username": "grace"}},
            ]
        }
    }
    assert [c.subgraph for c in shop_server.calls()] == ["reviews"]


async def test_field_beyond_the_provided_set_is_fetched_from_its_owner(shop, shop_server):
    result = await post(shop, "{ review(id: \"r2\") { author { username email } } }")
    assert result == {"data": {"review": {"author": {"username": "alan", "email": "alan@example.com"}}}}
    assert [c.subgraph for c in shop_server.calls()] == ["reviews", "accounts"]
    assert shop_server.calls("accounts")[0].variables["representations"] == [{"__typename": "User", "id": "2"}]


async def test_not_provided_on_another_path(shop, shop_server):
    # User.username is only provided under Review.author, not under Query.user's entity fields
    result = await post(shop, "{ review(id: \"r1\") { author { reviews { author { username } } } } }")
    assert result == {
        "data": {"review": {"author": {"reviews": [{"author": {"username": "ada"}}, {"author": {"username": "ada"}}]}}}
    }
    assert [c.subgraph for c in shop_server.calls()] == ["reviews"]
