"""Sign-in sessions on SQLite and PostgreSQL: login, rotation, reuse detection, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.errors import UnauthenticatedError
from subgraphs.identity.models import AuditEvent, RefreshToken
from subgraphs.identity.services import sessions, users

GOOD = "Correct-Horse-42"
TTL = timedelta(days=30)


@pytest.fixture
async def alice(session, hasher):
    return await users.register_user(session=session, hasher=hasher, handle="alice", password=GOOD, email="alice@example.com")


async def _audit_kinds(session) -> list[str]:
    rows = await session.execute(sa.select(AuditEvent.event_type).order_by(AuditEvent.created_at))
    return [r[0] for r in rows]


async def test_login_by_handle_or_email(session, hasher, alice):
    by_handle = await sessions.login(session=session, hasher=hasher, login="ALICE", password=GOOD, refresh_ttl=TTL, ip="10.0.0.1")
    by_email = await sessions.login(session=session, hasher=hasher, login="Alice@Example.com", password=GOOD, refresh_ttl=TTL)
    assert by_handle.user.id == by_email.user.id == alice.id
    assert by_handle.family_id != by_email.family_id
    assert by_handle.refresh_token.startswith("rt_")
    stored = (await session.execute(sa.select(RefreshToken.token_hash))).scalars().all()
    assert by_handle.refresh_token not in stored  # only digests are kept


@pytest.mark.parametrize("login", ["alice", "nobody", "' OR 1=1 --", ""])
async def test_login_failure_is_uniform_and_audited(session, hasher, alice, count_rows, login):
    before = await count_rows()
    with pytest.raises(UnauthenticatedError, match="^Invalid handle or password.$"):
        await sessions.login(session=session, hasher=hasher, login=login, password="Wrong-Horse-42", refresh_ttl=TTL)
    after = await count_rows()
    assert after["identity_refresh_tokens"] == before["identity_refresh_tokens"] == 0
    assert after["identity_audit_events"] == before["identity_audit_events"] + 1
    assert (await _audit_kinds(session))[-1] == "LOGIN_FAILED"


async def test_refresh_rotates_within_family(session, hasher, alice):
    first = await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)
    second = await sessions.refresh_session(session=session, refresh_token=first.refresh_token, refresh_ttl=TTL)
    third = await sessions.refresh_session(session=session, refresh_token=second.refresh_token, refresh_ttl=TTL)
    assert first.family_id == second.family_id == third.family_id
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3


async def test_reused_refresh_token_revokes_whole_family(session, hasher, alice):
    first = await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)
    other = await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)
    second = await sessions.refresh_session(session=session, refresh_token=first.refresh_token, refresh_ttl=TTL)
    with pytest.raises(UnauthenticatedError) as info:
        await sessions.refresh_session(session=session, refresh_token=first.refresh_token, refresh_ttl=TTL)
    assert info.value.extensions == {"reason": "REUSED", "code": "UNAUTHENTICATED"}
    # The legitimate successor is dead too: the thief and the owner both have to sign in again.
    with pytest.raises(UnauthenticatedError) as info:
        await sessions.refresh_session(session=session, refresh_token=second.refresh_token, refresh_ttl=TTL)
    assert info.value.extensions == {"reason": "REUSED", "code": "UNAUTHENTICATED"}
    # Another sign-in (another family) is untouched.
    assert (await sessions.refresh_session(session=session, refresh_token=other.refresh_token, refresh_ttl=TTL)).family_id == other.family_id
    live = await session.execute(
        sa.select(sa.func.count()).select_from(RefreshToken).where(RefreshToken.family_id == first.family_id, RefreshToken.revoked_at.is_(None))
    )
    assert live.scalar_one() == 0
    assert "REFRESH_TOKEN_REUSED" in await _audit_kinds(session)


@pytest.mark.parametrize("token", ["", "garbage", "rt_" + "A" * 43, "x" * 1_000_000, "' OR 1=1 --"])
async def test_unknown_or_malformed_refresh_tokens(session, hasher, alice, count_rows, token):
    before = await count_rows()
    with pytest.raises(UnauthenticatedError) as info:
        await sessions.refresh_session(session=session, refresh_token=token, refresh_ttl=TTL)
    assert info.value.extensions["reason"] in {"MALFORMED", "INVALID"}
    assert await count_rows() == before


async def test_expired_refresh_token(session, hasher, alice, count_rows):
    issued = sessions.start_session(session, user=alice, refresh_ttl=timedelta(seconds=-1))
    await session.commit()
    before = await count_rows()
    with pytest.raises(UnauthenticatedError) as info:
        await sessions.refresh_session(session=session, refresh_token=issued.refresh_token, refresh_ttl=TTL)
    assert info.value.extensions == {"reason": "EXPIRED", "code": "UNAUTHENTICATED"}
    assert await count_rows() == before


async def test_logout_revokes_family_and_all_sessions(session, hasher, alice):
    a = await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)
    b = await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)
    assert await sessions.logout(session=session, user_id=alice.id, refresh_token=a.refresh_token)
    with pytest.raises(UnauthenticatedError):
        await sessions.refresh_session(session=session, refresh_token=a.refresh_token, refresh_ttl=TTL)
    assert not await sessions.logout(session=session, user_id="someone-else", refresh_token=b.refresh_token)
    assert await sessions.logout(session=session, user_id=alice.id, all_sessions=True)
    with pytest.raises(UnauthenticatedError):
        await sessions.refresh_session(session=session, refresh_token=b.refresh_token, refresh_ttl=TTL)


async def test_change_password_ends_every_session(session, hasher, alice):
    a = await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)
    await users.change_password(session=session, hasher=hasher, user_id=alice.id, current_password=GOOD, new_password="Another-Horse-77")
    with pytest.raises(UnauthenticatedError):
        await sessions.refresh_session(session=session, refresh_token=a.refresh_token, refresh_ttl=TTL)
    with pytest.raises(UnauthenticatedError):
        await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)
    assert (await sessions.login(session=session, hasher=hasher, login="alice", password="Another-Horse-77", refresh_ttl=TTL)).user.id == alice.id


async def test_concurrent_refreshes_with_one_token_never_both_succeed(database, session, hasher, alice):
    import asyncio

    issued = await sessions.login(session=session, hasher=hasher, login="alice", password=GOOD, refresh_ttl=TTL)

    async def refresh():
        async with database.session() as own:
            return await sessions.refresh_session(session=own, refresh_token=issued.refresh_token, refresh_ttl=TTL)

    results = await asyncio.gather(refresh(), refresh(), return_exceptions=True)
    winners = [r for r in results if isinstance(r, sessions.IssuedSession)]
    losers = [r for r in results if isinstance(r, UnauthenticatedError)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert losers[0].extensions == {"reason": "REUSED", "code": "UNAUTHENTICATED"}
    # The race itself is treated as reuse: the family is revoked, the winner's token included.
    with pytest.raises(UnauthenticatedError):
        await sessions.refresh_session(session=session, refresh_token=winners[0].refresh_token, refresh_ttl=TTL)
