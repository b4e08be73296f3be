"""The federated User entity: _entities with exact data/errors, and who may see the email."""

from __future__ import annotations

ENTITIES = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id handle displayName email roles verified } } }
"""


async def test_entities_resolves_known_ids_and_nulls_unknown(api):
    alice = (await api.register("alice", email="alice@example.com", displayName="Alice"))["user"]
    bob = (await api.register("bob"))["user"]
    body = await api(ENTITIES, {"r": [{"__typename": "User", "id": bob["id"]}, {"__typename": "User", "id": "no-such-user"}, {"__typename": "User", "id": alice["id"]}]})
    assert body == {
        "data": {
            "_entities": [
                {"id": bob["id"], "handle": "bob", "displayName": None, "email": None, "roles": ["USER"], "verified": False},
                None,
                {"id": alice["id"], "handle": "alice", "displayName": "Alice", "email": None, "roles": ["USER"], "verified": False},
            ]
        }
    }


async def test_entities_bad_representations_fail_alone_at_their_index(api):
    alice = (await api.register("alice"))["user"]
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }"
    body = await api(query, {"r": [{"__typename": "User", "id": alice["id"]}, {"__typename": "User"}, {"__typename": "Nope", "id": "x"}]})
    location = [{"line": 1, "column": 23}]
    assert body == {
        "data": {"_entities": [{"id": alice["id"]}, None, None]},
        "errors": [
            {"message": "A User representation needs a string id.", "locations": location, "path": ["_entities", 1], "extensions": {"code": "BAD_USER_INPUT"}},
            {"message": "Unknown entity type 'Nope'.", "locations": location, "path": ["_entities", 2], "extensions": {"code": "BAD_USER_INPUT"}},
        ],
    }


async def test_email_visible_to_owner_and_admin_only(api):
    admin = await api.register("root_admin")  # bootstrap admin, see app fixture settings
    alice = await api.register("alice", email="alice@example.com")
    bob = await api.register("bob")
    query = "query($id: ID!) { user(id: $id) { email } }"
    variables = {"id": alice["user"]["id"]}
    assert (await api(query, variables, token=alice["accessToken"]))["data"]["user"]["email"] == "alice@example.com"
    assert (await api(query, variables, token=bob["accessToken"]))["data"]["user"]["email"] is None
    assert (await api(query, variables))["data"]["user"]["email"] is None
    assert admin["user"]["roles"] == ["USER", "ADMIN"]
    assert (await api(query, variables, token=admin["accessToken"]))["data"]["user"]["email"] == "alice@example.com"


async def test_sdl_declares_user_entity_key(api):
    body = await api("{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    assert 'type User @key(fields: "id")' in sdl
    assert '@link(url: "https://specs.apollo.dev/federation/v2.9"' in sdl


async def test_entities_batch_into_one_query(api):
    import sqlalchemy as sa

    ids = [(await api.register(f"user_{i}"))["user"]["id"] for i in range(5)]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "identity_users" in statement:
            statements.append(statement)

    engine = api.app.state.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        body = await api(ENTITIES, {"r": [{"__typename": "User", "id": i} for i in reversed(ids)]})
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert [e["handle"] for e in body["data"]["_entities"]] == [f"user_{i}" for i in reversed(range(5))]
    assert len(statements) == 1  # one DataLoader batch, not one query per representation
