"""@inaccessible fields, types, root fields and enum values are never reachable by clients."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import post


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ('{ user(id: "1") { birthYear } }', "Cannot query field 'birthYear' on type 'User'.", 19),
        ('{ user(id: "1") { audit { note } } }', "Cannot query field 'audit' on type 'User'.", 19),
        ("{ internalUsers { id } }", "Cannot query field 'internalUsers' on type 'Query'.", 3),
        ("{ ... on AuditEntry { note } }", "Unknown type 'AuditEntry'.", 10),
    ],
    ids=["field", "field-of-inaccessible-type", "root-field", "type"],
)
async def test_inaccessible_element_fails_validation(shop, shop_server, query, message, column):
    response = await shop.post("/graphql", json={"query": query})
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0] == {
        "message": message,
        "locations": [{"line": 1, "column": column}],
        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
    }
    assert shop_server.calls() == []


async def test_inaccessible_enum_value_is_not_accepted_as_input(shop):
    # Category is output-only here, so ask introspection which values clients can see
    result = await post(shop, '{ __type(name: "Category") { enumValues(includeDeprecated: true) { name } } }')
    assert result == {"data": {"__type": {"enumValues": [{"name": "FURNITURE"}, {"name": "LIGHTING"}]}}}


async def test_accessible_siblings_still_work(shop):
    result = await post(shop, '{ user(id: "2") { id email } product(upc: "4") { category } }')
    assert result == {"data": {"user": {"id": "2", "email": "alan@example.com"}, "product": {"category": "LIGHTING"}}}
