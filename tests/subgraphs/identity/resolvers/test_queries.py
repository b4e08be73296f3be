"""Query root through the real app: lookups by id/handle, batches, argument checks."""

from __future__ import annotations


async def test_user_by_id_or_handle(api):
    alice = (await api.register("alice", displayName="Alice"))["user"]
    by_id = await api("query($id: ID!) { user(id: $id) { handle displayName } }", {"id": alice["id"]})
    by_handle = await api('{ user(handle: "ALICE") { id } }')
    assert by_id == {"data": {"user": {"handle": "alice", "displayName": "Alice"}}}
    assert by_handle == {"data": {"user": {"id": alice["id"]}}}
    assert await api('{ user(handle: "nobody") { id } }') == {"data": {"user": None}}
    assert await api("query($id: ID!) { user(id: $id) { id } }", {"id": "x" * 1_000_000}) == {"data": {"user": None}}


async def test_user_needs_exactly_one_argument(api):
    for query in ("{ user { id } }", '{ user(id: "1", handle: "a") { id } }'):
        body = await api(query)
        assert body["data"] == {"user": None}
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
        assert body["errors"][0]["message"] == "Pass exactly one of id or handle."


async def test_users_keeps_order_with_null_holes(api):
    a = (await api.register("alice"))["user"]["id"]
    b = (await api.register("bob"))["user"]["id"]
    body = await api("query($ids: [ID!]!) { users(ids: $ids) { handle } }", {"ids": [b, "missing", a, b]})
    assert body == {"data": {"users": [{"handle": "bob"}, None, {"handle": "alice"}, {"handle": "bob"}]}}


async def test_users_refuses_oversized_batches(api):
    body = await api("query($ids: [ID!]!) { users(ids: $ids) { id } }", {"ids": [str(i) for i in range(101)]})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"field": "ids", "code": "BAD_USER_INPUT"}


async def test_audit_events_argument_bounds(api):
    admin = await api.register("root_admin")
    body = await api("{ auditEvents(first: 0) { id } }", token=admin["accessToken"])
    assert body["errors"][0]["extensions"] == {"field": "first", "code": "BAD_USER_INPUT"}
    body = await api('query($b: DateTime) { auditEvents(before: $b) { id } }', {"b": "not-a-date"}, token=admin["accessToken"])
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_wrong_variable_types_are_bad_user_input(api):
    body = await api("query($ids: [ID!]!) { users(ids: $ids) { id } }", {"ids": {"not": "a list"}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
