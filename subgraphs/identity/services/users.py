"""Accounts: registration, lookups, profile edits, password changes and role administration."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import ConflictError, NotFoundError, UnauthenticatedError
from subgraphs.identity.models import RefreshToken, User, utcnow
from subgraphs.identity.security.passwords import PasswordHasher, check_password_strength
from subgraphs.identity.services._validation import (
    bad,
    handle_key,
    validate_avatar_url,
    validate_email,
    validate_handle,
    validate_text,
)
from subgraphs.identity.services.attempts import CredentialGuard
from subgraphs.identity.services.audit import AuditEventType, record_audit_event

__all__ = [
    "UNCHANGED",
    "Role",
    "as_utc",
    "change_password",
    "get_user",
    "get_user_by_handle",
    "get_users",
    "register_user",
    "set_roles",
    "set_verified",
    "update_profile",
    "user_roles",
]


class Role(enum.StrEnum):
    USER = "USER"
    CREATOR = "CREATOR"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


# Distinguishes "leave this field alone" from "clear it" (None) in partial updates.
UNCHANGED: Any = _Unchanged()


def as_utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def user_roles(user: User) -> frozenset[Role]:
    return frozenset(Role(r) for r in user.roles.split(",") if r)


def _encode_roles(roles: Sequence[Role]) -> str:
    wanted = {Role(r) for r in roles} | {Role.USER}
    return ",".join(r.value for r in Role if r in wanted)


async def get_user(*, session: AsyncSession, user_id: str) -> User | None:
    if len(user_id) > 36:
        return None
    return await session.get(User, user_id)


async def get_user_by_handle(*, session: AsyncSession, handle: str) -> User | None:
    if len(handle) > 30:
        return None
    result = await session.execute(select(User).where(User.handle_key == handle_key(handle)))  # type: ignore[arg-type]
    return result.scalar_one_or_none()


async def get_users(*, session: AsyncSession, ids: Sequence[str]) -> list[User | None]:
    """Users in the order of `ids` (None where unknown); one query."""
    wanted = [i for i in dict.fromkeys(ids) if len(i) <= 36]
    found: dict[str, User] = {}
    if wanted:
        result = await session.execute(select(User).where(User.id.in_(wanted)))  # type: ignore[attr-defined]
        found = {u.id: u for u in result.scalars()}
    return [found.get(i) for i in ids]


async def register_user(
    *,
    session: AsyncSession,
    hasher: PasswordHasher,
    handle: str,
    password: str,
    email: str | None = None,
    display_name: str | None = None,
    bootstrap_admin_handle: str | None = None,
    ip: str | None = None,
) -> User:
    """Create an account and commit it with its audit row.

    `bootstrap_admin_handle` (dev/test only, decided by the caller) makes the very first account
    ADMIN when its handle matches; nobody else can elevate themselves.
    """
    validate_handle(handle)
    email = validate_email(email) if email else None
    display_name = validate_text("displayName", display_name, max_length=64)
    check_password_strength(password, handle=handle)
    await _ensure_free(session, handle=handle, email=email)
    roles = [Role.USER]
    if bootstrap_admin_handle and handle_key(bootstrap_admin_handle) == handle_key(handle):
        count = (await session.execute(select(func.count()).select_from(User))).scalar_one()
        if count == 0:
            roles.append(Role.ADMIN)
    user = User(
        handle=handle,
        handle_key=handle_key(handle),
        email=email,
        display_name=display_name,
        password_hash=await hasher.hash(password),
        roles=_encode_roles(roles),
    )
    session.add(user)
    record_audit_event(session, AuditEventType.REGISTERED, user_id=user.id, ip=ip, detail=f"handle={handle}")
    await commit_unique(session, "Handle or email is already taken.")
    return user


async def _ensure_free(session: AsyncSession, *, handle: str | None, email: str | None) -> None:
    if handle is not None and await get_user_by_handle(session=session, handle=handle):
        raise ConflictError(
            f"Handle '{handle}' is already taken.", extensions={"field": "handle"}
        )
    if email is not None:
        taken = await session.execute(select(User.id).where(User.email == email))  # type: ignore[call-overload]
        if taken.first() is not None:
            raise ConflictError("Email is already in use.", extensions={"field": "email"})


async def commit_unique(session: AsyncSession, message: str) -> None:
    """Commit; a unique-constraint race lost to a concurrent writer becomes a CONFLICT."""
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ConflictError(message) from exc


async def _require_user(session: AsyncSession, user_id: str) -> User:
    user = await get_user(session=session, user_id=user_id)
    if user is None:
        raise NotFoundError("User not found.", extensions={"userId": user_id[:36]})
    return user


async def update_profile(
    *,
    session: AsyncSession,
    user_id: str,
    display_name: str | None = UNCHANGED,
    avatar_url: str | None = UNCHANGED,
    bio: str | None = UNCHANGED,
    email: str | None = UNCHANGED,
) -> User:
    """Apply the given fields (UNCHANGED ones are left alone, None clears) and commit."""
    changes: dict[str, Any] = {}
    if display_name is not UNCHANGED:
        changes["display_name"] = validate_text("displayName", display_name, max_length=64)
    if avatar_url is not UNCHANGED:
        changes["avatar_url"] = validate_avatar_url(avatar_url)
    if bio is not UNCHANGED:
        changes["bio"] = validate_text("bio", bio, max_length=500)
    if email is not UNCHANGED:
        changes["email"] = validate_email(email) if email else None
    user = await _require_user(session, user_id)
    if "email" in changes and changes["email"] != user.email:
        if user.email_verified_at is not None and user.email is not None:
            # A proven email changes only by a code at the new address (requestEmailChange).
            raise bad("email", "A verified email changes with requestEmailChange.",
                      "CONFIRMATION_REQUIRED")
        if changes["email"]:
            await _ensure_free(session, handle=None, email=changes["email"])
        changes["email_verified_at"] = None
    for name, value in changes.items():
        setattr(user, name, value)
    user.updated_at = utcnow()
    await commit_unique(session, "Email is already in use.")
    return user


async def change_password(
    *,
    session: AsyncSession,
    hasher: PasswordHasher,
    user_id: str,
    current_password: str | None,
    new_password: str,
    ip: str | None = None,
    guard: CredentialGuard | None = None,
) -> None:
    """Replace the password and revoke every refresh token of the account (all sessions end).

    An account created by wallet sign-in has no password yet; it sets its first one without
    `current_password` (the signed-in session is the proof). `guard` counts the check of the
    current password against the same failure budgets as logins (it is the same secret).
    """
    user = await _require_user(session, user_id)
    if user.password_hash is not None:
        attempt = await guard.start(user.id) if guard is not None else None
        if not await hasher.verify(user.password_hash, current_password or ""):
            record_audit_event(
                session, AuditEventType.PASSWORD_CHANGE_FAILED, user_id=user.id, ip=ip)
            await session.commit()
            raise UnauthenticatedError("Current password is incorrect.")
        if attempt is not None:
            await attempt.succeeded()
    check_password_strength(new_password, handle=user.handle)
    if user.password_hash is not None and await hasher.verify(user.password_hash, new_password):
        raise bad("newPassword", "The new password must differ from the current one.", "UNCHANGED")
    user.password_hash = await hasher.hash(new_password)
    user.updated_at = utcnow()
    await revoke_all_refresh_tokens(session, user.id)
    record_audit_event(session, AuditEventType.PASSWORD_CHANGED, user_id=user.id, ip=ip)
    await session.commit()


async def revoke_all_refresh_tokens(session: AsyncSession, user_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(revoked_at=utcnow())
    )


async def set_roles(
    *, session: AsyncSession, actor_id: str, user_id: str, roles: Sequence[Role], ip: str | None = None
) -> User:
    """Replace a user's roles (USER is always kept). Authorization is the caller's job."""
    user = await _require_user(session, user_id)
    before = user.roles
    user.roles = _encode_roles(roles)
    user.updated_at = utcnow()
    record_audit_event(
        session,
        AuditEventType.ROLES_CHANGED,
        user_id=user.id,
        ip=ip,
        detail=f"by={actor_id} from={before} to={user.roles}",
    )
    await session.commit()
    return user


async def set_verified(
    *, session: AsyncSession, actor_id: str, user_id: str, verified: bool, ip: str | None = None
) -> User:
    user = await _require_user(session, user_id)
    user.verified = verified
    user.updated_at = utcnow()
    record_audit_event(
        session, AuditEventType.VERIFIED_CHANGED, user_id=user.id, ip=ip, detail=f"by={actor_id} verified={verified}"
    )
    await session.commit()
    return user
