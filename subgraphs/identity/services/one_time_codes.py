"""One-time codes sent to a phone or an email: issued, delivered, and checked once.

A code is six random digits, kept as a keyed hash (`security.codes`), valid for minutes, and
spent by its first right answer or by its last allowed wrong one. Issuing a code spends the
earlier live ones of the same purpose and destination. The row is committed before the
provider is called (no provider call inside a transaction); a failed delivery spends it.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ServiceUnavailableError, UnauthenticatedError
from subgraphs.identity.messaging import Channel, DeliveryError, MessageSender, OutboundMessage
from subgraphs.identity.models import OneTimeCode, new_id, utcnow
from subgraphs.identity.security.codes import code_digest, new_numeric_code
from subgraphs.identity.services.users import as_utc

__all__ = ["CodePolicy", "Purpose", "check_code", "issue_code", "record_delivery_status"]


class Purpose(enum.StrEnum):
    SIGN_IN = "SIGN_IN"
    PASSWORD_RESET = "PASSWORD_RESET"
    VERIFY_EMAIL = "VERIFY_EMAIL"
    CHANGE_EMAIL = "CHANGE_EMAIL"
    CHANGE_PHONE = "CHANGE_PHONE"


_SUBJECTS = {
    Purpose.SIGN_IN: "Your Tributary sign-in code",
    Purpose.PASSWORD_RESET: "Reset your Tributary password",
    Purpose.VERIFY_EMAIL: "Verify your email for Tributary",
    Purpose.CHANGE_EMAIL: "Confirm your new email for Tributary",
    Purpose.CHANGE_PHONE: "Confirm your new phone for Tributary",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class CodePolicy:
    ttl: timedelta
    max_attempts: int
    pepper: bytes


async def issue_code(
    session: AsyncSession,
    *,
    policy: CodePolicy,
    sender: MessageSender | None,
    purpose: Purpose,
    channel: Channel,
    destination: str,
    user_id: str | None = None,
) -> OneTimeCode:
    """Store a new code for `destination` and send it; the row is returned (never the code)."""
    if sender is None:
        raise BadUserInputError(f"{channel.value} codes are not available here.",
                                extensions={"field": "channel", "reason": "CHANNEL_UNAVAILABLE"})
    code = new_numeric_code()
    row_id = new_id()
    now = utcnow()
    await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.purpose == purpose.value, OneTimeCode.destination == destination,  # type: ignore[arg-type]
               OneTimeCode.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=now)
    )
    row = OneTimeCode(
        id=row_id, purpose=purpose.value, channel=channel.value, destination=destination,
        user_id=user_id, code_hash=code_digest(policy.pepper, salt=row_id, code=code),
        created_at=now, expires_at=now + policy.ttl, provider=sender.name,
    )
    session.add(row)
    await session.commit()
    minutes = max(int(policy.ttl.total_seconds()) // 60, 1)
    message = OutboundMessage(
        channel=channel, to=destination, subject=_SUBJECTS[purpose],
        body=f"Your Tributary code is {code}. It expires in {minutes} minutes. "
             "Never share it; Tributary will not ask you for it.",
    )
    try:
        sent = await sender.send(message)
    except DeliveryError as error:
        row.used_at = utcnow()
        row.delivery_status = "failed"
        await session.commit()
        if error.permanent:
            raise BadUserInputError("The code could not be delivered to this destination.",
                                    extensions={"field": "destination",
                                                "reason": "UNDELIVERABLE"}) from None
        raise ServiceUnavailableError("The code could not be sent now; retry.") from None
    row.provider_message_id = sent.message_id[:100]
    row.delivery_status = sent.status[:32] or None
    await session.commit()
    return row


async def check_code(
    session: AsyncSession,
    *,
    policy: CodePolicy,
    purpose: Purpose,
    code: str,
    destination: str | None = None,
    user_id: str | None = None,
) -> OneTimeCode:
    """The newest code of `purpose` for `destination` (or `user_id`), spent if `code` is right.

    The spending is flushed, not committed: the caller commits it with what the code allows,
    so a failure there (a lost race for a handle) leaves the code usable. A wrong answer is
    committed at once. UNAUTHENTICATED with reason CODE_INVALID or CODE_EXPIRED.
    """
    assert destination is not None or user_id is not None, "a code is looked up by something"
    query = select(OneTimeCode).where(OneTimeCode.purpose == purpose.value)  # type: ignore[arg-type]
    if destination is not None:
        query = query.where(OneTimeCode.destination == destination)  # type: ignore[arg-type]
    if user_id is not None:
        query = query.where(OneTimeCode.user_id == user_id)  # type: ignore[arg-type]
    query = query.order_by(OneTimeCode.created_at.desc()).limit(1)  # type: ignore[attr-defined]
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None or row.used_at is not None:
        raise _invalid("No live code; request a new one.", attempts_left=0)
    if as_utc(row.expires_at) <= utcnow():
        raise UnauthenticatedError("The code has expired; request a new one.",
                                   extensions={"reason": "CODE_EXPIRED"})
    expected = code_digest(policy.pepper, salt=row.id, code=code)
    if not hmac.compare_digest(expected, row.code_hash):
        return await _wrong(session, row, policy)
    spent = await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None),  # type: ignore[arg-type,union-attr]
               OneTimeCode.attempts < policy.max_attempts)  # type: ignore[arg-type]
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        # A concurrent answer spent it first.
        await session.rollback()
        raise _invalid("No live code; request a new one.", attempts_left=0)
    return row


async def _wrong(session: AsyncSession, row: OneTimeCode, policy: CodePolicy) -> OneTimeCode:
    attempts = row.attempts + 1
    values: dict[str, object] = {"attempts": OneTimeCode.attempts + 1}
    if attempts >= policy.max_attempts:
        values["used_at"] = utcnow()
    await session.execute(
        update(OneTimeCode).where(OneTimeCode.id == row.id).values(**values)  # type: ignore[arg-type]
    )
    await session.commit()
    raise _invalid("The code is not right.", attempts_left=max(policy.max_attempts - attempts, 0))


def _invalid(message: str, *, attempts_left: int) -> UnauthenticatedError:
    return UnauthenticatedError(message, extensions={"reason": "CODE_INVALID",
                                                     "attemptsLeft": attempts_left})


async def record_delivery_status(
    session: AsyncSession, *, provider_message_id: str, status: str
) -> bool:
    """A provider's status callback (delivered, failed, ...); False for an unknown message."""
    result = await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.provider_message_id == provider_message_id[:100])  # type: ignore[arg-type]
        .values(delivery_status=status[:32])
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]
