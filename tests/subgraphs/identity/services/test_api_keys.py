"""API keys on SQLite and PostgreSQL: shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.errors import BadUserInputError, ConflictError, NotFoundError
from subgraphs.identity.models import ApiKey
from subgraphs.identity.services import api_keys, users

GOOD = "Correct-Horse-42"


@pytest.fixture
async def alice(session, hasher):
    return await users.register_user(session=session, hasher=hasher, handle="alice", password=GOOD)


async def test_create_resolve_and_revoke(session, alice):
    created = await api_keys.create_api_key(session=session, user_id=alice.id, name="ci", scopes=["identity:read", "read", "read"])
    assert created.secret.startswith(created.api_key.prefix + "_")
    stored = (await session.execute(sa.select(ApiKey.key_hash, ApiKey.prefix))).one()
    assert created.secret not in stored
    caller = await api_keys.resolve_api_key(session=session, key=created.secret)
    assert caller is not None
    assert (caller.user_id, caller.api_key_id, caller.scopes, caller.roles) == (alice.id, created.api_key.id, frozenset({"identity:read", "read"}), frozenset({"USER"}))
    listed = await api_keys.list_api_keys(session=session, user_id=alice.id)
    assert [k.id for k in listed] == [created.api_key.id]
    await api_keys.revoke_api_key(session=session, key_id=created.api_key.id, user_id=alice.id)
    assert await api_keys.resolve_api_key(session=session, key=created.secret) is None


@pytest.mark.parametrize("key", ["", "trk_", "trk_000000000000_" + "A" * 43, "x" * 1_000_000, "' OR '1'='1"])
async def test_unknown_and_malformed_keys_resolve_to_none(session, alice, key):
    await api_keys.create_api_key(session=session, user_id=alice.id, name="ci", scopes=["read"])
    assert await api_keys.resolve_api_key(session=session, key=key) is None


async def test_wrong_secret_with_right_prefix_is_refused(session, alice):
    created = await api_keys.create_api_key(session=session, user_id=alice.id, name="ci", scopes=["read"])
    forged = created.api_key.prefix + "_" + "B" * 43
    assert await api_keys.resolve_api_key(session=session, key=forged) is None


@pytest.mark.parametrize(("name", "scopes"), [("", ["read"]), ("ci", []), ("ci", ["DROP TABLE"]), ("n" * 65, ["read"]), ("ci", ["read"] * 21 + ["x"])])
async def test_bad_key_input_writes_nothing(session, alice, count_rows, name, scopes):
    before = await count_rows()
    with pytest.raises(BadUserInputError):
        await api_keys.create_api_key(session=session, user_id=alice.id, name=name, scopes=scopes)
    assert await count_rows() == before


async def test_cannot_revoke_someone_elses_key(session, hasher, alice):
    bob = await users.register_user(session=session, hasher=hasher, handle="bob", password=GOOD)
    created = await api_keys.create_api_key(session=session, user_id=alice.id, name="ci", scopes=["read"])
    with pytest.raises(NotFoundError):
        await api_keys.revoke_api_key(session=session, key_id=created.api_key.id, user_id=bob.id)
    assert await api_keys.resolve_api_key(session=session, key=created.secret) is not None


async def test_active_key_limit(session, alice):
    for i in range(api_keys.MAX_KEYS_PER_USER):
        await api_keys.create_api_key(session=session, user_id=alice.id, name=f"k{i}", scopes=["read"])
    with pytest.raises(ConflictError):
        await api_keys.create_api_key(session=session, user_id=alice.id, name="one-too-many", scopes=["read"])
