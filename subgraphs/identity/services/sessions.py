"""Sign-in sessions: password login, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import UnauthenticatedError
from subgraphs.identity.models import RefreshToken, User, new_id, utcnow
from subgraphs.identity.security.passwords import PasswordHasher
from subgraphs.identity.security.secrets import hash_secret, new_refresh_token
from subgraphs.identity.services.attempts import CredentialGuard
from subgraphs.identity.services.audit import AuditEventType, record_audit_event
from subgraphs.identity.services.users import as_utc, revoke_all_refresh_tokens

__all__ = [
    "ActiveSession",
    "IssuedSession",
    "list_sessions",
    "login",
    "logout",
    "refresh_session",
    "revoke_sessions",
    "start_session",
]

_MAX_TOKEN_LENGTH = 200
_MAX_AGENT = 300


@dataclass(frozen=True, kw_only=True, slots=True)
class IssuedSession:
    user: User
    refresh_token: str
    family_id: str


def start_session(
    session: AsyncSession,
    *,
    user: User,
    refresh_ttl: timedelta,
    family_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """Add a refresh token for `user` to `session` (the caller commits); `ip` and
    `user_agent` describe the device in the session list."""
    token = new_refresh_token()
    family = family_id or new_id()
    session.add(
        RefreshToken(
            family_id=family,
            user_id=user.id,
            token_hash=hash_secret(token),
            expires_at=utcnow() + refresh_ttl,
            ip=ip[:64] if ip else None,
            user_agent=user_agent[:_MAX_AGENT] if user_agent else None,
        )
    )
    return IssuedSession(user=user, refresh_token=token, family_id=family)


async def login(
    *,
    session: AsyncSession,
    hasher: PasswordHasher,
    login: str,
    password: str,
    refresh_ttl: timedelta,
    ip: str | None = None,
    guard: CredentialGuard | None = None,
    second_factor: Callable[[User], Awaitable[None]] | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """Check a handle-or-email and password; the failure message never says which one was wrong.

    `guard` counts the check against the failure budgets of the client (the resolver always
    passes one): keyed by the account's id, so its handle and email share one budget.
    `second_factor`, called once the password is right, refuses accounts with two-step on
    (it raises SECOND_FACTOR_REQUIRED with the token that completes the sign-in).
    """
    user = await _find_login(session, login)
    attempt = None
    if guard is not None:
        attempt = await guard.start(user.id if user else f"login:{login.strip()[:254]}")
    if not await hasher.verify(user.password_hash if user else None, password) or user is None:
        record_audit_event(
            session,
            AuditEventType.LOGIN_FAILED,
            user_id=user.id if user else None,
            ip=ip,
            detail=f"login={login[:64]}",
        )
        await session.commit()
        raise UnauthenticatedError("Invalid handle or password.")
    if attempt is not None:
        await attempt.succeeded()
    if hasher.needs_rehash(user.password_hash or ""):
        user.password_hash = await hasher.hash(password)
    if second_factor is not None:
        await second_factor(user)
    issued = start_session(session, user=user, refresh_ttl=refresh_ttl, ip=ip,
                           user_agent=user_agent)
    record_audit_event(session, AuditEventType.LOGIN_SUCCEEDED, user_id=user.id, ip=ip)
    await session.commit()
    return issued


async def _find_login(session: AsyncSession, login: str) -> User | None:
    login = login.strip()
    if not login or len(login) > 254:
        return None
    column = User.email if "@" in login else User.handle_key
    result = await session.execute(select(User).where(column == login.lower()))  # type: ignore[arg-type]
    return result.scalar_one_or_none()


async def refresh_session(
    *,
    session: AsyncSession,
    refresh_token: str,
    refresh_ttl: timedelta,
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """Rotate a refresh token: the presented one is spent and a new one of the same family issued.

    Presenting a spent or revoked token again means it leaked: the whole family is revoked.
    """
    if not refresh_token or len(refresh_token) > _MAX_TOKEN_LENGTH:
        raise UnauthenticatedError("Refresh token is malformed.", extensions={"reason": "MALFORMED"})
    result = await session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh_token))  # type: ignore[arg-type]
    )
    stored = result.scalar_one_or_none()
    if stored is None:
        raise UnauthenticatedError("Refresh token is not valid.", extensions={"reason": "INVALID"})
    family_id, user_id = stored.family_id, stored.user_id
    if stored.used_at is not None or stored.revoked_at is not None:
        await _revoke_family(session, family_id=family_id, user_id=user_id, ip=ip)
    if as_utc(stored.expires_at) <= utcnow():
        raise UnauthenticatedError("Refresh token has expired.", extensions={"reason": "EXPIRED"})
    # Conditional update: of two concurrent refreshes with the same token only one wins.
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        # Lost a race against a concurrent refresh with the same token: that is reuse too.
        await session.rollback()
        await _revoke_family(session, family_id=family_id, user_id=user_id, ip=ip)
    user = await session.get(User, user_id)
    assert user is not None, "refresh token without user"
    issued = start_session(session, user=user, refresh_ttl=refresh_ttl, family_id=family_id,
                           ip=ip, user_agent=user_agent)
    record_audit_event(session, AuditEventType.TOKEN_REFRESHED, user_id=user.id, ip=ip)
    await session.commit()
    return issued


async def _revoke_family(
    session: AsyncSession, *, family_id: str, user_id: str, ip: str | None
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(revoked_at=utcnow())
    )
    record_audit_event(
        session,
        AuditEventType.REFRESH_TOKEN_REUSED,
        user_id=user_id,
        ip=ip,
        detail=f"family={family_id}",
    )
    await session.commit()
    raise UnauthenticatedError(
        "Refresh token was already used; every session of this sign-in has been revoked.",
        extensions={"reason": "REUSED"},
    )


async def logout(
    *,
    session: AsyncSession,
    user_id: str | None,
    refresh_token: str | None = None,
    all_sessions: bool = False,
    ip: str | None = None,
) -> str | None:
    """Revoke the family of `refresh_token` (or every family of the user): the id of the user
    whose session ended, None when none was found. The caller revokes their access tokens.

    Without `user_id` (a client whose access token already expired) holding the refresh token
    is proof enough to end its own session.
    """
    found = True
    if all_sessions and user_id is not None:
        await revoke_all_refresh_tokens(session, user_id)
    elif refresh_token and len(refresh_token) <= _MAX_TOKEN_LENGTH:
        query = select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh_token))  # type: ignore[arg-type]
        if user_id is not None:
            query = query.where(RefreshToken.user_id == user_id)  # type: ignore[arg-type]
        stored = (await session.execute(query)).scalar_one_or_none()
        found = stored is not None
        if stored is not None:
            user_id = stored.user_id
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == stored.family_id, RefreshToken.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
                .values(revoked_at=utcnow())
            )
    else:
        found = False
    if found:
        record_audit_event(session, AuditEventType.LOGOUT, user_id=user_id, ip=ip)
        await session.commit()
    return user_id if found else None


@dataclass(frozen=True, kw_only=True, slots=True)
class ActiveSession:
    """One live sign-in (refresh family) as its newest token describes it."""

    family_id: str
    signed_in_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None


async def list_sessions(session: AsyncSession, *, user_id: str) -> list[ActiveSession]:
    """The account's live sessions, most recently used first. A session's head is its one
    unspent, unrevoked, unexpired refresh token; "last used" is its latest sign-in or refresh."""
    now = utcnow()
    heads = (await session.execute(
        select(RefreshToken).where(
            RefreshToken.user_id == user_id,  # type: ignore[arg-type]
            RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None),  # type: ignore[union-attr]
            RefreshToken.expires_at > now,  # type: ignore[arg-type]
        )
    )).scalars().all()
    families = [h.family_id for h in heads]
    started: dict[str, datetime] = {}
    if families:
        rows = await session.execute(
            select(RefreshToken.family_id, func.min(RefreshToken.created_at))  # type: ignore[call-overload]
            .where(RefreshToken.family_id.in_(families))  # type: ignore[attr-defined]
            .group_by(RefreshToken.family_id)
        )
        started = {family: as_utc(first) for family, first in rows}
    sessions = [
        ActiveSession(family_id=h.family_id, signed_in_at=started.get(h.family_id, as_utc(h.created_at)),
                      last_used_at=as_utc(h.created_at), expires_at=as_utc(h.expires_at),
                      ip=h.ip, user_agent=h.user_agent)
        for h in heads
    ]
    return sorted(sessions, key=lambda s: s.last_used_at, reverse=True)


async def revoke_sessions(
    session: AsyncSession,
    *,
    user_id: str,
    family_id: str | None = None,
    keep_family_id: str | None = None,
    ip: str | None = None,
) -> int:
    """Revoke one session of the account (`family_id`) or all but `keep_family_id`; the
    number of tokens revoked. The caller revokes the account's access tokens."""
    query = update(RefreshToken).where(
        RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
    if family_id is not None:
        query = query.where(RefreshToken.family_id == family_id[:36])  # type: ignore[arg-type]
    if keep_family_id is not None:
        query = query.where(RefreshToken.family_id != keep_family_id)  # type: ignore[arg-type]
    result = await session.execute(query.values(revoked_at=utcnow()))
    count = int(result.rowcount)  # type: ignore[attr-defined]
    record_audit_event(session, AuditEventType.SESSION_REVOKED, user_id=user_id, ip=ip,
                       detail=f"family={family_id}" if family_id else f"all_but={keep_family_id}")
    await session.commit()
    return count
