"""Accounts service on SQLite and PostgreSQL: registration rules, profile edits, roles."""

from __future__ import annotations

import pytest

from shared.errors import BadUserInputError, ConflictError, NotFoundError, UnauthenticatedError
from subgraphs.identity.services import users
from subgraphs.identity.services.users import Role, user_roles

GOOD = "Correct-Horse-42"


async def register(session, hasher, handle="alice", **kw):
    return await users.register_user(session=session, hasher=hasher, handle=handle, password=kw.pop("password", GOOD), **kw)


async def test_register_stores_argon2id_hash_and_default_role(session, hasher, count_rows):
    user = await register(session, hasher, email="Alice@Example.com", display_name=" Alice ")
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash
    assert user.email == "alice@example.com"
    assert user.display_name == "Alice"
    assert user_roles(user) == {Role.USER}
    counts = await count_rows()
    assert counts["identity_users"] == 1
    assert counts["identity_audit_events"] == 1


async def test_duplicate_handle_is_case_insensitive_conflict(session, hasher, count_rows):
    await register(session, hasher, handle="alice")
    with pytest.raises(ConflictError, match="already taken"):
        await register(session, hasher, handle="ALICE")
    assert (await count_rows())["identity_users"] == 1


async def test_duplicate_email_conflicts(session, hasher, count_rows):
    await register(session, hasher, handle="alice", email="a@example.com")
    with pytest.raises(ConflictError, match="Email"):
        await register(session, hasher, handle="bob", email="A@example.com")
    assert (await count_rows())["identity_users"] == 1


@pytest.mark.parametrize(
    "handle",
    ["ab", "x" * 31, "bad handle", "robert'); DROP TABLE identity_users;--", "admin", "émile", "a" * 1_000_000],
)
async def test_invalid_handles_are_refused(session, hasher, count_rows, handle):
    with pytest.raises(BadUserInputError) as info:
        await register(session, hasher, handle=handle)
    assert info.value.extensions["field"] == "handle"
    assert (await count_rows())["identity_users"] == 0


@pytest.mark.parametrize(
    "password",
    ["short1A!", "password123", "alllowercaseletters", "aaaaaaaaaaaaaaaaaaaa", "ALICE-is-Great-1", "x" * 1_000_000],
)
async def test_weak_passwords_are_refused(session, hasher, count_rows, password):
    with pytest.raises(BadUserInputError) as info:
        await register(session, hasher, handle="alice", password=password)
    assert info.value.extensions == {"field": "password", "reason": "WEAK_PASSWORD",
                                    "code": "BAD_USER_INPUT"}
    assert (await count_rows())["identity_users"] == 0


async def test_long_passphrase_without_classes_is_accepted(session, hasher):
    user = await register(session, hasher, password="purple monkey dishwasher")
    assert user.id


async def test_sql_looking_strings_are_stored_verbatim(session, hasher):
    bio = "'; DROP TABLE identity_users; -- \" OR 1=1"
    user = await register(session, hasher, display_name="x' OR '1'='1")
    updated = await users.update_profile(session=session, user_id=user.id, bio=bio)
    assert updated.bio == bio
    again = await users.get_user_by_handle(session=session, handle="alice")
    assert again is not None and again.display_name == "x' OR '1'='1"
    assert await users.get_user_by_handle(session=session, handle="' OR 1=1 --") is None


async def test_bootstrap_admin_only_for_first_matching_user(session, hasher):
    first = await register(session, hasher, handle="root_user", bootstrap_admin_handle="Root_User")
    assert Role.ADMIN in user_roles(first)
    second = await register(session, hasher, handle="bob", bootstrap_admin_handle="bob")
    assert user_roles(second) == {Role.USER}


async def test_bootstrap_admin_ignored_when_handle_differs(session, hasher):
    user = await register(session, hasher, handle="mallory", bootstrap_admin_handle="root_user")
    assert user_roles(user) == {Role.USER}


async def test_update_profile_partial_and_clearing(session, hasher):
    user = await register(session, hasher, display_name="Alice")
    user = await users.update_profile(session=session, user_id=user.id, bio="hi", avatar_url="https://cdn.example/a.png")
    assert (user.display_name, user.bio, user.avatar_url) == ("Alice", "hi", "https://cdn.example/a.png")
    user = await users.update_profile(session=session, user_id=user.id, display_name=None)
    assert (user.display_name, user.bio) == (None, "hi")


@pytest.mark.parametrize(
    ("field", "value"),
    [("avatar_url", "javascript:alert(1)"), ("avatar_url", "http://plain.example/a.png"), ("bio", "b" * 501), ("display_name", "x\x00y"), ("email", "not-an-email"), ("bio", "z" * 1_000_000)],
)
async def test_update_profile_rejects_bad_values_and_writes_nothing(session, hasher, field, value):
    user = await register(session, hasher, display_name="Alice")
    with pytest.raises(BadUserInputError):
        await users.update_profile(session=session, user_id=user.id, **{field: value})
    await session.rollback()
    fresh = await users.get_user(session=session, user_id=user.id)
    await session.refresh(fresh)
    assert (fresh.display_name, fresh.bio, fresh.avatar_url, fresh.email) == ("Alice", None, None, None)


async def test_update_profile_email_conflict(session, hasher):
    await register(session, hasher, handle="alice", email="a@example.com")
    bob = await register(session, hasher, handle="bob")
    with pytest.raises(ConflictError):
        await users.update_profile(session=session, user_id=bob.id, email="a@example.com")


async def test_change_password_checks_current_and_revokes_sessions(session, hasher, count_rows):
    user = await register(session, hasher)
    with pytest.raises(UnauthenticatedError):
        await users.change_password(session=session, hasher=hasher, user_id=user.id, current_password="nope-Nope-1", new_password="Another-Horse-77")
    with pytest.raises(BadUserInputError):
        await users.change_password(session=session, hasher=hasher, user_id=user.id, current_password=GOOD, new_password="weak")
    await users.change_password(session=session, hasher=hasher, user_id=user.id, current_password=GOOD, new_password="Another-Horse-77")
    await session.refresh(user)
    assert await hasher.verify(user.password_hash, "Another-Horse-77")
    assert not await hasher.verify(user.password_hash, GOOD)


async def test_set_roles_always_keeps_user_and_audits(session, hasher):
    admin = await register(session, hasher, handle="boss")
    user = await register(session, hasher, handle="carol")
    updated = await users.set_roles(session=session, actor_id=admin.id, user_id=user.id, roles=[Role.CREATOR, Role.MODERATOR])
    assert user_roles(updated) == {Role.USER, Role.CREATOR, Role.MODERATOR}
    assert updated.roles == "USER,CREATOR,MODERATOR"
    with pytest.raises(NotFoundError):
        await users.set_roles(session=session, actor_id=admin.id, user_id="nope", roles=[])


async def test_get_users_keeps_order_and_unknowns(session, hasher):
    a = await register(session, hasher, handle="alice")
    b = await register(session, hasher, handle="bob")
    found = await users.get_users(session=session, ids=[b.id, "missing", a.id, b.id])
    assert [u.handle if u else None for u in found] == ["bob", None, "alice", "bob"]
