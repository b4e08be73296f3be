"""Introspection answers from the API schema: no join__/link machinery, no @inaccessible element."""

from __future__ import annotations

from graphql import build_client_schema, get_introspection_query, print_schema

from tests.gateway.conftest import gateway_client, post


async def test_schema_types_are_the_api_schema(shop, shop_server):
    result = await post(shop, "{ __schema { types { name } queryType { name } mutationType { name } } }")
    names = sorted(t["name"] for t in result["data"]["__schema"]["types"] if not t["name"].startswith("__"))
    assert names == [
        "Boolean", "Category", "Dimensions", "Float", "ID", "Int", "Location", "Mutation",
        "Product", "Query", "Review", "String", "User", "Warehouse",
    ]
    assert result["data"]["__schema"]["queryType"] == {"name": "Query"}
    assert result["data"]["__schema"]["mutationType"] == {"name": "Mutation"}
    assert shop_server.calls() == []


async def test_type_fields_hide_inaccessible_and_federation_fields(shop):
    result = await post(
        shop,
        '{ user: __type(name: "User") { fields { name } } query: __type(name: "Query") { fields { name } } '
        'join: __type(name: "join__Graph") { name } }',
    )
    assert result == {
        "data": {
            "user": {"fields": [{"name": "id"}, {"name": "email"}, {"name": "name"}, {"name": "username"},
                                {"name": "ageIn2000"}, {"name": "reviews"}]},
            "query": {"fields": [{"name": "me"}, {"name": "user"}, {"name": "users"}, {"name": "warehouses"},
                                 {"name": "topProducts"}, {"name": "product"}, {"name": "latestReviews"},
                                 {"name": "review"}]},
            "join": None,
        }
    }


async def test_full_introspection_has_no_federation_directives(shop):
    result = await post(shop, get_introspection_query(descriptions=True))
    schema = build_client_schema(result["data"])
    printed = print_schema(schema)
    for machinery in ("join__", "link__", "@link", "@inaccessible", "_entities", "_Any", "_service",
                      "birthYear", "AuditEntry", "internalUsers", "DISCONTINUED"):
        assert machinery not in printed, machinery
    assert sorted(d.name for d in schema.directives) == ["deprecated", "include", "oneOf", "skip", "specifiedBy"]


async def test_introspection_mixed_with_federated_fields(shop):
    result = await post(shop, '{ __type(name: "Review") { name } review(id: "r4") { body } }')
    assert result == {"data": {"__type": {"name": "Review"}, "review": {"body": "Prefer something else."}}}


async def test_introspection_can_be_disabled(shop_server):
    async with gateway_client(shop_server, introspection=False) as client:
        response = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert response.status_code == 400
        assert response.json() == {
            "errors": [{"message": "Introspection is disabled on this gateway.",
                        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]
        }
        # __typename is not introspection
        assert await post(client, "{ __typename }") == {"data": {"__typename": "Query"}}
        # nor may a misspelled field reveal its neighbours' names
        typo = await client.post("/graphql", json={"query": "{ topProduct { upc } }"})
        [error] = typo.json()["errors"]
        assert error["message"] == "Cannot query field 'topProduct' on type 'Query'."


async def test_suggestions_stay_while_introspection_is_on(shop):
    typo = await shop.post("/graphql", json={"query": "{ topProduct { upc } }"})
    assert "Did you mean 'topProducts' or 'product'?" in typo.json()["errors"][0]["message"]
