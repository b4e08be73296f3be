"""What one-time codes unlock: sign-in and sign-up, password reset, proving and changing contacts.

Every flow checks the code in the same transaction as its effect (`one_time_codes.check_code`
flushes the spending, the flow commits both). Answers never tell whether an account exists.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ConflictError
from subgraphs.identity.messaging import Channel, MessageSender
from subgraphs.identity.models import OneTimeCode, User, utcnow
from subgraphs.identity.security.passwords import PasswordHasher, check_password_strength
from subgraphs.identity.services._validation import bad, handle_key, validate_handle
from subgraphs.identity.services.audit import AuditEventType, record_audit_event
from subgraphs.identity.services.one_time_codes import CodePolicy, Purpose, check_code, issue_code
from subgraphs.identity.services.users import (
    commit_unique,
    get_user,
    get_user_by_handle,
    revoke_all_refresh_tokens,
)

__all__ = [
    "Purpose",
    "confirm_contact_change",
    "find_by_destination",
    "get_user",
    "issue_code",
    "request_contact_change",
    "request_email_verification",
    "request_password_reset",
    "reset_password",
    "sign_in_with_code",
    "verify_email",
]


async def find_by_destination(session: AsyncSession, channel: Channel, destination: str) -> User | None:
    column = User.email if channel is Channel.EMAIL else User.phone
    result = await session.execute(select(User).where(column == destination))  # type: ignore[arg-type]
    return result.scalar_one_or_none()


async def sign_in_with_code(
    session: AsyncSession,
    *,
    policy: CodePolicy,
    channel: Channel,
    destination: str,
    code: str,
    handle: str | None = None,
    ip: str | None = None,
) -> tuple[User, bool]:
    """The account the destination belongs to, or a new one (`handle` or generated), and
    whether it was created. Not committed: the caller adds the session and commits.

    An email another account only claimed (never proved) yields to the one who proves it:
    the claim is dropped and the prover gets their own account, so nobody can pre-register
    someone else's address and share their account later.
    """
    if handle is not None:
        validate_handle(handle)
    user = await find_by_destination(session, channel, destination)
    await check_code(session, policy=policy, purpose=Purpose.SIGN_IN, destination=destination,
                     code=code)
    now = utcnow()
    if user is not None and channel is Channel.EMAIL and user.email_verified_at is None:
        user.email = None
        user.updated_at = now
        await session.flush()
        user = None
    created = user is None
    if user is None:
        user = await _new_account(session, handle=handle)
        if channel is Channel.EMAIL:
            user.email = destination
        else:
            user.phone = destination
        session.add(user)
        record_audit_event(session, AuditEventType.REGISTERED, user_id=user.id, ip=ip,
                           detail=f"handle={user.handle} by={channel.value}")
    if channel is Channel.EMAIL:
        user.email_verified_at = user.email_verified_at or now
    else:
        user.phone_verified_at = user.phone_verified_at or now
    record_audit_event(session, AuditEventType.CODE_SIGN_IN, user_id=user.id, ip=ip,
                       detail=f"channel={channel.value}")
    return user, created


async def _new_account(session: AsyncSession, *, handle: str | None) -> User:
    if handle is not None:
        if await get_user_by_handle(session=session, handle=handle):
            raise ConflictError(f"Handle '{handle}' is already taken.",
                                extensions={"field": "handle"})
    else:
        handle = f"user_{secrets.token_hex(5)}"
    return User(handle=handle, handle_key=handle_key(handle))


async def request_password_reset(
    session: AsyncSession,
    *,
    policy: CodePolicy,
    sender: MessageSender | None,
    channel: Channel,
    destination: str,
) -> None:
    """Send a reset code when an account has this destination; else nothing, answered the
    same way. An email given at registration counts though never proven: the code proves it."""
    user = await find_by_destination(session, channel, destination)
    if user is None:
        return
    await issue_code(session, policy=policy, sender=sender, purpose=Purpose.PASSWORD_RESET,
                     channel=channel, destination=destination, user_id=user.id)


async def reset_password(
    session: AsyncSession,
    *,
    policy: CodePolicy,
    hasher: PasswordHasher,
    channel: Channel,
    destination: str,
    code: str,
    new_password: str,
    ip: str | None = None,
) -> str:
    """Set a new password and end every session; the account's id (the caller revokes its
    access tokens). A weak password is refused before the code is looked at."""
    user = await find_by_destination(session, channel, destination)
    check_password_strength(new_password, handle=user.handle if user else None)
    row = await check_code(session, policy=policy, purpose=Purpose.PASSWORD_RESET,
                           destination=destination, code=code)
    user = await get_user(session=session, user_id=row.user_id or "")
    if user is None or (channel is Channel.EMAIL and user.email != destination) or (
            channel is not Channel.EMAIL and user.phone != destination):
        # The contact moved to another account since the code was sent.
        await session.rollback()
        raise BadUserInputError("This code no longer belongs to an account; request a new one.",
                                extensions={"field": "destination", "reason": "STALE"})
    user.password_hash = await hasher.hash(new_password)
    user.updated_at = utcnow()
    if channel is Channel.EMAIL:
        user.email_verified_at = user.email_verified_at or utcnow()
    await revoke_all_refresh_tokens(session, user.id)
    record_audit_event(session, AuditEventType.PASSWORD_RESET, user_id=user.id, ip=ip,
                       detail=f"channel={channel.value}")
    await session.commit()
    return user.id


async def request_email_verification(
    session: AsyncSession, *, policy: CodePolicy, sender: MessageSender | None, user_id: str
) -> OneTimeCode:
    user = await get_user(session=session, user_id=user_id)
    assert user is not None, "signed-in account exists"
    if user.email is None:
        raise bad("email", "The account has no email to verify.", "MISSING")
    if user.email_verified_at is not None:
        raise bad("email", "The email is already verified.", "ALREADY_VERIFIED")
    return await issue_code(session, policy=policy, sender=sender, purpose=Purpose.VERIFY_EMAIL,
                            channel=Channel.EMAIL, destination=user.email, user_id=user.id)


async def verify_email(
    session: AsyncSession, *, policy: CodePolicy, user_id: str, code: str, ip: str | None = None
) -> User:
    row = await check_code(session, policy=policy, purpose=Purpose.VERIFY_EMAIL, user_id=user_id,
                           code=code)
    user = await get_user(session=session, user_id=user_id)
    assert user is not None, "signed-in account exists"
    if user.email != row.destination:
        await session.rollback()
        raise bad("code", "The email changed since this code was sent.", "STALE")
    user.email_verified_at = utcnow()
    record_audit_event(session, AuditEventType.EMAIL_VERIFIED, user_id=user.id, ip=ip)
    await session.commit()
    return user


async def request_contact_change(
    session: AsyncSession,
    *,
    policy: CodePolicy,
    sender: MessageSender | None,
    user_id: str,
    channel: Channel,
    destination: str,
) -> OneTimeCode:
    """Send a code to the new email or phone; nothing changes until it is confirmed there."""
    user = await get_user(session=session, user_id=user_id)
    assert user is not None, "signed-in account exists"
    current = user.email if channel is Channel.EMAIL else user.phone
    if current == destination:
        raise bad("destination", "That is already the account's address.", "UNCHANGED")
    await _ensure_unclaimed(session, channel, destination)
    purpose = Purpose.CHANGE_EMAIL if channel is Channel.EMAIL else Purpose.CHANGE_PHONE
    return await issue_code(session, policy=policy, sender=sender, purpose=purpose,
                            channel=channel, destination=destination, user_id=user.id)


async def _ensure_unclaimed(session: AsyncSession, channel: Channel, destination: str) -> None:
    if await find_by_destination(session, channel, destination) is not None:
        field = "email" if channel is Channel.EMAIL else "phone"
        raise ConflictError(f"That {field} is already in use.", extensions={"field": field})


async def confirm_contact_change(
    session: AsyncSession,
    *,
    policy: CodePolicy,
    user_id: str,
    email: bool,
    code: str,
    ip: str | None = None,
) -> User:
    purpose = Purpose.CHANGE_EMAIL if email else Purpose.CHANGE_PHONE
    row = await check_code(session, policy=policy, purpose=purpose, user_id=user_id, code=code)
    channel = Channel.EMAIL if email else Channel.SMS
    await _ensure_unclaimed(session, channel, row.destination)
    user = await get_user(session=session, user_id=user_id)
    assert user is not None, "signed-in account exists"
    now = utcnow()
    if email:
        user.email, user.email_verified_at = row.destination, now
    else:
        user.phone, user.phone_verified_at = row.destination, now
    user.updated_at = now
    record_audit_event(session, AuditEventType.EMAIL_CHANGED if email
                       else AuditEventType.PHONE_CHANGED, user_id=user.id, ip=ip)
    await commit_unique(session, "That address is already in use.")
    return user
