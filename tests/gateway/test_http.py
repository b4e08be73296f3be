"""GraphQL over HTTP: methods, media types, status codes, GraphiQL, /health, headers, limits."""

from __future__ import annotations

import json

import pytest

from tests.gateway.conftest import gateway_client, post

QUERY = '{ product(upc: "1") { name inStock } }'
ANSWER = {"data": {"product": {"name": "Table", "inStock": True}}}


async def test_post_json(shop):
    response = await shop.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == ANSWER


async def test_post_with_operation_name_picks_the_operation(shop):
    document = "query A { me { id } } query B { product(upc: \"2\") { name } }"
    assert await post(shop, document, operation_name="B") == {"data": {"product": {"name": "Couch"}}}


async def test_graphql_response_media_type_when_accepted(shop):
    response = await shop.post(
        "/graphql", json={"query": QUERY}, headers={"accept": "application/graphql-response+json, application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert response.json() == ANSWER


async def test_get_query(shop):
    response = await shop.get(
        "/graphql",
        params={"query": "query($u: String!) { product(upc: $u) { name inStock } }", "variables": json.dumps({"u": "1"})},
    )
    assert response.status_code == 200
    assert response.json() == ANSWER


async def test_get_mutation_is_refused(shop, shop_server):
    response = await shop.get("/graphql", params={"query": 'mutation { renameUser(id: "1", username: "x") { id } }'})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {
        "errors": [{"message": "Only queries can be sent with GET; use POST for mutations.",
                    "extensions": {"code": "BAD_REQUEST"}}]
    }
    assert shop_server.calls() == []


@pytest.mark.parametrize(
    ("content", "headers", "status", "message"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "The request body is not valid JSON."),
        (b"[1, 2]", {"content-type": "application/json"}, 400, "The request body must be a JSON object."),
        (b'{"variables": {}}', {"content-type": "application/json"}, 400,
         "Provide a GraphQL document as the 'query' parameter."),
        (b'{"query": "{ me { id } }", "variables": [1]}', {"content-type": "application/json"}, 400,
         "'variables' must be a JSON object."),
        (b"{ me { id } }", {"content-type": "text/plain"}, 415, "Send GraphQL requests as application/json."),
    ],
    ids=["unparsable-json", "not-an-object", "no-query", "variables-not-object", "wrong-content-type"],
)
async def test_bad_requests(shop, content, headers, status, message):
    response = await shop.post("/graphql", content=content, headers=headers)
    assert response.status_code == status
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}


async def test_unparsable_document_is_400(shop):
    response = await shop.post("/graphql", json={"query": "{ me { id }"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "Syntax Error: Expected Name, found <EOF>.", "locations": [{"line": 1, "column": 12}],
                    "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]
    }


async def test_invalid_document_is_400_with_every_error(shop, shop_server):
    response = await shop.post("/graphql", json={"query": "{ me { nope } product { upc } }"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": "Cannot query field 'nope' on type 'User'. Did you mean 'name'?",
             "locations": [{"line": 1, "column": 8}],
             "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},
            {"message": "Field 'product' argument 'upc' of type 'String!' is required, but it was not provided.",
             "locations": [{"line": 1, "column": 15}], "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},
        ]
    }
    assert shop_server.calls() == []


async def test_unknown_operation_name_is_400(shop):
    response = await shop.post("/graphql", json={"query": "query A { me { id } }", "operationName": "B"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "OPERATION_RESOLUTION_FAILURE"}


async def test_graphiql_for_a_browser(shop):
    response = await shop.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_can_be_disabled(shop_server):
    async with gateway_client(shop_server, graphiql=False) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"message": "GraphiQL is disabled on this gateway.", "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_health(shop):
    response = await shop.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_headers_propagated_to_every_subgraph(shop, shop_server):
    await post(
        shop,
        '{ product(upc: "1") { inStock reviews { id } } }',
        headers={"authorization": "Bearer t0k", "x-request-id": "req-42", "cookie": "session=secret", "x-other": "no"},
    )
    calls = shop_server.calls()
    assert sorted(c.subgraph for c in calls) == ["inventory", "products", "reviews"]
    for call in calls:
        assert call.headers["authorization"] == "Bearer t0k"
        assert call.headers["x-request-id"] == "req-42"
        assert "cookie" not in call.headers
        assert "x-other" not in call.headers


async def test_propagated_header_list_is_configurable(shop_server):
    shop_server.reset()
    async with gateway_client(shop_server, propagate_headers=["x-tenant"]) as client:
        await post(client, "{ me { id } }", headers={"x-tenant": "acme", "authorization": "Bearer t0k"})
    (call,) = shop_server.calls()
    assert call.headers["x-tenant"] == "acme"
    assert "authorization" not in call.headers


async def test_depth_limit(shop_server):
    async with gateway_client(shop_server, max_depth=3) as client:
        ok = await client.post("/graphql", json={"query": '{ review(id: "r1") { author { id } } }'})
        deep = await client.post("/graphql", json={"query": '{ review(id: "r1") { author { reviews { id } } } }'})
    assert ok.status_code == 200
    assert deep.status_code == 400
    assert deep.json() == {
        "errors": [{"message": "Operation exceeds the maximum depth of 3.", "extensions": {"code": "MAX_DEPTH_EXCEEDED"}}]
    }


async def test_depth_limit_counts_through_fragments(shop_server):
    query = '{ review(id: "r1") { ...F } } fragment F on Review { author { reviews { id } } }'
    async with gateway_client(shop_server, max_depth=3) as client:
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "MAX_DEPTH_EXCEEDED"}


async def test_alias_limit(shop_server):
    async with gateway_client(shop_server, max_aliases=2) as client:
        ok = await client.post("/graphql", json={"query": "{ a: me { id } b: me { id } }"})
        many = await client.post("/graphql", json={"query": "{ a: me { id } b: me { id } c: me { x: id } }"})
    assert ok.status_code == 200
    assert many.status_code == 400
    assert many.json() == {
        "errors": [{"message": "Operation exceeds the maximum of 2 aliases.", "extensions": {"code": "MAX_ALIASES_EXCEEDED"}}]
    }


async def test_token_limit(shop_server):
    async with gateway_client(shop_server, max_tokens=10) as client:
        ok = await client.post("/graphql", json={"query": "{ me { id email } }"})
        long = await client.post("/graphql", json={"query": "{ me { " + "id " * 20 + "} }"})
    assert ok.status_code == 200
    assert long.status_code == 400
    assert long.json() == {
        "errors": [{"message": "Syntax Error: Document contains more than 10 tokens. Parsing aborted.",
                    "locations": [{"line": 1, "column": 29}], "extensions": {"code": "MAX_TOKENS_EXCEEDED"}}]
    }


async def test_body_size_limit(shop_server):
    async with gateway_client(shop_server, max_body_bytes=64) as client:
        response = await client.post("/graphql", json={"query": "{ me { id } }", "variables": {"pad": "x" * 100}})
    assert response.status_code == 413
    assert response.json() == {
        "errors": [{"message": "The request body exceeds 64 bytes.", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]
    }


async def test_subgraphs_see_the_client_address_not_a_spoofed_one(shop, shop_server):
    await post(shop, '{ product(upc: "1") { name } }', headers={"x-forwarded-for": "6.6.6.6"})
    [call] = shop_server.calls()
    # httpx's ASGI transport reports the client as 127.0.0.1; the client's own claim is dropped
    assert call.headers["x-tributary-client-address"] == "127.0.0.1"
    assert "x-forwarded-for" not in call.headers


async def test_a_request_id_is_minted_when_the_client_sends_none(shop, shop_server):
    await post(shop, '{ product(upc: "1") { name inStock } }')
    ids = {call.headers["x-request-id"] for call in shop_server.calls()}
    assert len(ids) == 1 and len(ids.pop()) == 32
