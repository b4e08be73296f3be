"""Errors: broken subgraphs give partial data with coded errors; subgraph errors are re-pathed;
nulls in non-null positions propagate to the nearest nullable parent. Never an HTTP 500, never a hang."""

from __future__ import annotations

import pytest

from tests.gateway._servers import closed_port_url
from tests.gateway.conftest import gateway_client, post
from tests.gateway.fixtures.shop.data import STATE


@pytest.fixture
def clean(shop_server):
    STATE.reset()
    shop_server.reset()


def _fetch_failed(service: str, message: str, path: list | None = None) -> dict:
    error: dict = {"message": message, "extensions": {"code": "SUBGRAPH_FETCH_FAILED", "serviceName": service}}
    if path is not None:
        error["path"] = path
    return error


async def test_entity_subgraph_down_gives_partial_data(shop_server, clean):
    async with gateway_client(shop_server, url_overrides={"inventory": closed_port_url()}) as client:
        result = await post(client, "{ topProducts(first: 2) { upc inStock } }")
    (error,) = result.pop("errors")
    # which subgraph failed, never where it lives or the socket error (the logs keep those)
    assert error["message"] == "request to subgraph 'inventory' failed"
    assert {**error, "message": "-"} == _fetch_failed("inventory", "-", ["topProducts"])
    assert result == {"data": {"topProducts": [{"upc": "1", "inStock": None}, {"upc": "2", "inStock": None}]}}


async def test_root_subgraph_down_keeps_the_other_root_fields(shop_server, clean):
    async with gateway_client(shop_server, url_overrides={"accounts": closed_port_url()}) as client:
        result = await post(client, '{ me { id } review(id: "r1") { body } }')
    (error,) = result.pop("errors")
    # which subgraph failed, never where it lives or the socket error (the logs keep those)
    assert error["message"] == "request to subgraph 'accounts' failed"
    assert {**error, "message": "-"} == _fetch_failed("accounts", "-")
    assert result == {"data": {"me": None, "review": {"body": "Love it!"}}}


async def test_non_null_root_field_of_a_down_subgraph_nulls_data(shop_server, clean):
    async with gateway_client(shop_server, url_overrides={"products": closed_port_url()}) as client:
        result = await post(client, "{ topProducts { upc } }")
    # the fetch error explains the null: no second "Cannot return null" error is added
    [fetch_error] = result.pop("errors")
    assert fetch_error["message"] == "request to subgraph 'products' failed"
    assert {**fetch_error, "message": "-"} == _fetch_failed("products", "-")
    assert result == {"data": None}


async def test_slow_subgraph_times_out_into_partial_data(shop_server, clean):
    async with gateway_client(
        shop_server, url_overrides={"inventory": shop_server.special("_slow")}, subgraph_timeout_seconds=0.3
    ) as client:
        result = await post(client, '{ product(upc: "1") { name inStock } }')
    assert result == {
        "errors": [_fetch_failed("inventory", "request to subgraph 'inventory' timed out", ["product"])],
        "data": {"product": {"name": "Table", "inStock": None}},
    }


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("_garbage", "subgraph 'inventory' answered HTTP 200 with a body that is not JSON"),
        ("_http500", "subgraph 'inventory' answered HTTP 500 with a body that is not JSON"),
        ("_shapeless", "subgraph 'inventory' answered HTTP 200 without data or errors"),
    ],
)
async def test_subgraph_answering_garbage(shop_server, clean, endpoint, message):
    async with gateway_client(shop_server, url_overrides={"inventory": shop_server.special(endpoint)}) as client:
        result = await post(client, '{ product(upc: "2") { name inStock } }')
    assert result == {
        "errors": [_fetch_failed("inventory", message, ["product"])],
        "data": {"product": {"name": "Couch", "inStock": None}},
    }


async def test_entity_error_is_repathed_to_the_client_path(shop):
    STATE.failing.add("inStock:CCH")
    result = await post(shop, "{ topProducts(first: 3) { upc stock: inStock } }")
    assert result == {
        "errors": [
            {"message": "stock unknown for CCH", "path": ["topProducts", 1, "stock"],
             "extensions": {"serviceName": "inventory"}},
        ],
        "data": {
            "topProducts": [
                {"upc": "1", "stock": True},
                {"upc": "2", "stock": None},
                {"upc": "3", "stock": True},
            ]
        },
    }


async def test_entity_error_deep_in_the_response(shop):
    STATE.failing.add("inStock:TBL")
    result = await post(shop, '{ user(id: "1") { reviews { product { upc inStock } } } }')
    assert result == {
        "errors": [
            {"message": "stock unknown for TBL", "path": ["user", "reviews", 0, "product", "inStock"],
             "extensions": {"serviceName": "inventory"}},
        ],
        "data": {"user": {"reviews": [{"product": {"upc": "1", "inStock": None}},
                                      {"product": {"upc": "2", "inStock": False}}]}},
    }


async def test_null_in_non_null_field_propagates_to_nullable_parent(shop):
    STATE.failing.add("shippingEstimate:TBL")
    result = await post(shop, '{ product(upc: "1") { name shippingEstimate } other: product(upc: "2") { shippingEstimate } }')
    assert result == {
        "errors": [
            {"message": "no carrier for TBL", "path": ["product", "shippingEstimate"],
             "extensions": {"serviceName": "inventory"}},
        ],
        "data": {"product": None, "other": {"shippingEstimate": 0}},
    }


async def test_null_propagates_through_non_null_list_to_data(shop):
    STATE.failing.add("shippingEstimate:CCH")
    result = await post(shop, "{ topProducts(first: 2) { upc shippingEstimate } }")
    assert result == {
        "errors": [
            {"message": "no carrier for CCH", "path": ["topProducts", 1, "shippingEstimate"],
             "extensions": {"serviceName": "inventory"}},
        ],
        "data": None,
    }


async def test_null_propagation_stops_at_a_nullable_entity_field(shop):
    STATE.failing.add("shippingEstimate:TBL")
    result = await post(shop, '{ latestReviews { id product { shippingEstimate } } }')
    assert result == {
        "errors": [
            {"message": "no carrier for TBL", "path": ["latestReviews", 0, "product", "shippingEstimate"],
             "extensions": {"serviceName": "inventory"}},
            {"message": "no carrier for TBL", "path": ["latestReviews", 1, "product", "shippingEstimate"],
             "extensions": {"serviceName": "inventory"}},
        ],
        "data": {
            "latestReviews": [
                {"id": "r1", "product": None},
                {"id": "r2", "product": None},
                {"id": "r3", "product": {"shippingEstimate": 0}},
                {"id": "r4", "product": {"shippingEstimate": 25}},
            ]
        },
    }


async def test_entity_its_owner_answers_null_for_nulls_only_that_field_with_a_code(shop, clean):
    # accounts answers `null` (no error) for a user it no longer has: the other items resolve,
    # the missing one's nullable field is null, and the gateway's own error carries a code
    del STATE.users["2"]
    result = await post(shop, "{ topProducts(first: 3) { upc createdBy { id username } } }")
    assert result == {
        "errors": [
            {"message": "Cannot return null for non-nullable field User.id.",
             "path": ["topProducts", 1, "createdBy", "id"],
             "extensions": {"code": "RESPONSE_VALIDATION_FAILED"}},
        ],
        "data": {
            "topProducts": [
                {"upc": "1", "createdBy": {"id": "1", "username": "ada"}},
                {"upc": "2", "createdBy": None},
                {"upc": "3", "createdBy": None},
            ]
        },
    }


async def test_root_field_error_keeps_the_subgraph_code(shop):
    result = await post(shop, '{ review(id: "boom") { id } latestReviews { id } }')
    assert result == {
        "errors": [
            {"message": "review boom does not exist", "path": ["review"],
             "extensions": {"code": "NOT_FOUND", "serviceName": "reviews"}},
        ],
        "data": {"review": None, "latestReviews": [{"id": "r1"}, {"id": "r2"}, {"id": "r3"}, {"id": "r4"}]},
    }


async def test_errors_and_data_order_is_errors_first_then_data(shop):
    STATE.failing.add("inStock:CHR")
    response = await shop.post("/graphql", json={"query": '{ product(upc: "3") { inStock } }'})
    assert response.status_code == 200
    assert list(response.json()) == ["errors", "data"]


async def test_error_on_a_deduplicated_representation_reaches_every_path(shop, shop_server):
    # products 1 and 4 share warehouse FR/PAR: one representation, one subgraph error, two client paths
    STATE.failing.add("warehouse:PAR")
    result = await post(shop, "{ topProducts { upc warehouse { capacity } } }")
    assert result == {
        "errors": [
            {"message": "warehouse PAR is offline", "path": ["topProducts", 0, "warehouse"],
             "extensions": {"serviceName": "inventory"}},
            {"message": "warehouse PAR is offline", "path": ["topProducts", 3, "warehouse"],
             "extensions": {"serviceName": "inventory"}},
        ],
        "data": {
            "topProducts": [
                {"upc": "1", "warehouse": None},
                {"upc": "2", "warehouse": {"capacity": 40}},
                {"upc": "3", "warehouse": None},
                {"upc": "4", "warehouse": None},
            ]
        },
    }
    assert len(shop_server.calls("inventory")[0].variables["representations"]) == 2


async def test_null_bubbling_error_carries_a_code(shop, clean):
    # product 4 has a null key (sku, package): inventory is never asked, the non-null field stays null
    result = await post(shop, "{ topProducts { upc shippingEstimate } }")
    assert result == {
        "errors": [
            {
                "message": "Cannot return null for non-nullable field Product.shippingEstimate.",
                "path": ["topProducts", 3, "shippingEstimate"],
                "extensions": {"code": "RESPONSE_VALIDATION_FAILED"},
            }
        ],
        "data": None,
    }
