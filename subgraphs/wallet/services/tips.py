"""Tips between users: one idempotent ledger entry, an encrypted message, an outbox event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError
from subgraphs.wallet.models import Tip
from subgraphs.wallet.services.crypto import KeyRing
from subgraphs.wallet.services.idempotency import request_hash, run_idempotent, validate_key
from subgraphs.wallet.services.ledger import Posting, new_id, post_entry, user_account
from subgraphs.wallet.services.money import format_amount, get_currency, parse_amount
from subgraphs.wallet.services.outbox import TOPIC_SUSPICIOUS, TOPIC_TIP_SENT, emit

__all__ = [
    "SentTip",
    "TipView",
    "get_tip",
    "list_tips",
    "send_tip",
    "tip_totals_by_post",
    "tip_totals_by_user",
]

_MAX_ID = 128


@dataclass(frozen=True, kw_only=True, slots=True)
class TipView:
    id: str
    sender_id: str
    recipient_id: str
    post_id: str | None
    currency: str
    amount: int
    created_at: datetime
    message_kid: str | None
    message_ciphertext: bytes | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SentTip:
    tip: TipView
    replayed: bool


def _check_id(value: str | None, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_ID:
        raise BadUserInputError(f"{field} must be a non-empty ID of at most {_MAX_ID} characters",
                                extensions={"field": field, "reason": "INVALID_ID"})
    return value


async def send_tip(
    *,
    session: AsyncSession,
    keyring: KeyRing,
    sender_id: str,
    recipient_id: str,
    amount: str,
    currency: str,
    idempotency_key: str | None,
    post_id: str | None = None,
    message: str | None = None,
    max_message_length: int = 500,
    suspicious_minor: int | None = None,
) -> SentTip:
    """Move `amount` from sender to recipient; commits. Bad input raises before anything is written."""
    validate_key(idempotency_key)
    recipient_id = _check_id(recipient_id, "to")
    if post_id is not None:
        post_id = _check_id(post_id, "postId")
    cur = get_currency(currency)
    minor = parse_amount(amount, cur)
    if recipient_id == sender_id:
        raise BadUserInputError("You cannot tip yourself", extensions={"field": "to", "reason": "SELF_TIP"})
    if message is not None:
        message = message.strip() or None
    if message is not None and len(message) > max_message_length:
        raise BadUserInputError(f"Tip messages are at most {max_message_length} characters",
                                extensions={"field": "message", "reason": "TOO_LONG"})
    request = {
        "to": recipient_id, "amount": minor, "currency": cur.code, "postId": post_id,
        "message": request_hash("message", {"m": message}) if message else None,
    }

    created: list[Tip] = []

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        tip_id = new_id()
        entry_id = await post_entry(
            tx,
            kind="tip",
            reference=f"tip:{tip_id}",
            postings=[
                Posting(account=user_account(sender_id, cur.code), amount=-minor),
                Posting(account=user_account(recipient_id, cur.code), amount=minor),
            ],
        )
        kid, blob = keyring.encrypt(message, aad=tip_id.encode()) if message else (None, None)
        tip = Tip(
            id=tip_id, sender_id=sender_id, recipient_id=recipient_id, post_id=post_id,
            currency=cur.code, amount=minor, message_kid=kid, message_ciphertext=blob, entry_id=entry_id,
        )
        tx.add(tip)
        created.append(tip)
        await emit(tx, topic=TOPIC_TIP_SENT, key=tip_id, payload={
            "tipId": tip_id, "fromUserId": sender_id, "toUserId": recipient_id, "postId": post_id,
            "currency": cur.code, "amount": format_amount(minor, cur), "amountMinor": minor,
            "hasMessage": message is not None,
        })
        if suspicious_minor is not None and minor >= suspicious_minor:
            await emit(tx, topic=TOPIC_SUSPICIOUS, key=sender_id, payload={
                "reason": "LARGE_TIP", "userId": sender_id, "tipId": tip_id,
                "recipientId": recipient_id, "currency": cur.code, "amountMinor": minor,
            })
        return {"tipId": tip_id, "entryId": entry_id}

    outcome = await run_idempotent(
        session, principal=f"user:{sender_id}", key=idempotency_key, operation="sendTip",
        request=request, perform=perform,
    )
    if not outcome.replayed:
        return SentTip(tip=_view(created[-1]), replayed=False)
    tip = await get_tip(session=session, tip_id=outcome.result["tipId"])
    assert tip is not None, "an idempotency record points at a missing tip"
    return SentTip(tip=tip, replayed=True)


def _aware(value: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _view(row: Tip) -> TipView:
    return TipView(
        id=row.id, sender_id=row.sender_id, recipient_id=row.recipient_id, post_id=row.post_id,
        currency=row.currency, amount=row.amount, created_at=_aware(row.created_at),
        message_kid=row.message_kid, message_ciphertext=row.message_ciphertext,
    )


async def get_tip(*, session: AsyncSession, tip_id: str) -> TipView | None:
    row = (await session.execute(sa.select(Tip).where(Tip.id == tip_id))).scalar_one_or_none()  # type: ignore[arg-type]
    return _view(row) if row is not None else None


async def list_tips(
    *, session: AsyncSession, user_id: str, direction: str, first: int = 20
) -> list[TipView]:
    """A user's most recent tips, `direction` "received" or "sent"."""
    column = Tip.recipient_id if direction == "received" else Tip.sender_id
    rows = await session.execute(
        sa.select(Tip).where(column == user_id)  # type: ignore[arg-type]
        .order_by(Tip.created_at.desc(), Tip.id.desc())  # type: ignore[attr-defined]
        .limit(max(1, min(first, 100)))
    )
    return [_view(row) for row in rows.scalars()]


async def tip_totals_by_user(
    *, session: AsyncSession, user_ids: Sequence[str], direction: str
) -> dict[str, dict[str, int]]:
    """Per user, per currency, the sum of tips received (or sent)."""
    column = Tip.recipient_id if direction == "received" else Tip.sender_id
    rows = await session.execute(
        sa.select(column, Tip.currency, sa.func.sum(Tip.amount))
        .where(column.in_(list(user_ids)))  # type: ignore[attr-defined]
        .group_by(column, Tip.currency)
    )
    totals: dict[str, dict[str, int]] = {uid: {} for uid in user_ids}
    for uid, currency, total in rows.all():
        totals[uid][currency] = int(total)
    return totals


async def tip_totals_by_post(
    *, session: AsyncSession, post_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        sa.select(Tip.post_id, Tip.currency, sa.func.sum(Tip.amount))
        .where(Tip.post_id.in_(list(post_ids)))  # type: ignore[union-attr]
        .group_by(Tip.post_id, Tip.currency)
    )
    totals: dict[str, dict[str, int]] = {pid: {} for pid in post_ids}
    for pid, currency, total in rows.all():
        totals[pid][currency] = int(total)
    return totals
