"""Mutations: root fields run strictly in document order, across subgraphs."""

from __future__ import annotations

from tests.gateway._servers import closed_port_url
from tests.gateway.conftest import gateway_client, post
from tests.gateway.fixtures.shop.data import STATE


async def test_root_fields_run_in_order_across_subgraphs(shop, shop_server):
    result = await post(
        shop,
        """mutation {
          first: addReview(productUpc: "2", body: "one") { id body }
          rename: renameUser(id: "1", username: "countess") { username }
          second: addReview(productUpc: "3", body: "two", rating: 4) { id rating author { username } }
        }""",
    )
    assert result == {
        "data": {
            "first": {"id": "r5", "body": "one"},
            "rename": {"username": "countess"},
            # provided by reviews, which read the username after the rename ran
            "second": {"id": "r6", "rating": 4, "author": {"username": "countess"}},
        }
    }
    assert STATE.mutation_log == [
        "reviews.addReview(2, one)",
        "accounts.renameUser(1, countess)",
        "reviews.addReview(3, two)",
    ]
    assert [c.subgraph for c in shop_server.calls()] == ["reviews", "accounts", "reviews"]


async def test_mutation_result_joined_with_other_subgraphs(shop, shop_server):
    result = await post(
        shop,
        'mutation($upc: String!) { addReview(productUpc: $upc, body: "nice") { product { name inStock } author { email } } }',
        {"upc": "1"},
    )
    assert result == {
        "data": {"addReview": {"product": {"name": "Table", "inStock": True}, "author": {"email": "ada@example.com"}}}
    }
    assert STATE.mutation_log == ["reviews.addReview(1, nice)"]
    # the mutation ran once; the joins are entity queries, never a second mutation
    mutation_calls = [c for c in shop_server.calls() if c.query.lstrip().startswith("mutation")]
    assert len(mutation_calls) == 1


async def test_sibling_mutations_on_the_same_subgraph_stay_in_order(shop, shop_server):
    result = await post(
        shop,
        'mutation { a: renameUser(id: "2", username: "x") { username } b: renameUser(id: "2", username: "y") { username } }',
    )
    assert result == {"data": {"a": {"username": "x"}, "b": {"username": "y"}}}
    assert STATE.mutation_log == ["accounts.renameUser(2, x)", "accounts.renameUser(2, y)"]
    assert STATE.users["2"]["username"] == "y"


async def test_a_failing_mutation_field_does_not_stop_the_next_ones(shop_server):
    STATE.reset()
    shop_server.reset()
    async with gateway_client(shop_server, url_overrides={"accounts": closed_port_url()}) as client:
        result = await post(
            client,
            'mutation { a: addReview(productUpc: "1", body: "a") { id } '
            'b: renameUser(id: "1", username: "b") { id } c: addReview(productUpc: "2", body: "c") { id } }',
        )
    (error,) = result.pop("errors")
    # which subgraph failed, never where it lives or the socket error (the logs keep those)
    assert error["message"] == "request to subgraph 'accounts' failed"
    assert error["extensions"] == {"code": "SUBGRAPH_FETCH_FAILED", "serviceName": "accounts"}
    assert result == {"data": {"a": {"id": "r5"}, "b": None, "c": {"id": "r6"}}}
    assert STATE.mutation_log == ["reviews.addReview(1, a)", "reviews.addReview(2, c)"]
