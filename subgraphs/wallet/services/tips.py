"""Tips between users: one idempotent ledger entry, an encrypted message, an outbox event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.errors import BadUserInputError, ConflictError
from subgraphs.wallet.models import Tip, utcnow
from subgraphs.wallet.services.crypto import KeyRing
from subgraphs.wallet.services.idempotency import (
    IdempotentResult,
    replay,
    request_hash,
    run_idempotent,
    validate_key,
)
from subgraphs.wallet.services.ledger import (
    AccountFrozenError,
    InsufficientFundsError,
    Posting,
    new_id,
    post_entry,
    user_account,
)
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
_OPERATION = "sendTip"


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
    database: Database,
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
    """Move `amount` from sender to recipient and commit. Bad input raises before anything is written.

    PostgreSQL: one call to the `wallet_send_tip` function. SQLite: the portable ledger path
    (`run_idempotent` + `post_entry`), serialised by SQLite's single writer.
    """
    key = validate_key(idempotency_key)
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
    tip_id, entry_id = new_id(), new_id()
    kid, blob = keyring.encrypt(message, aad=tip_id.encode()) if message else (None, None)
    tip = TipView(
        id=tip_id, sender_id=sender_id, recipient_id=recipient_id, post_id=post_id,
        currency=cur.code, amount=minor, created_at=utcnow(), message_kid=kid,
        message_ciphertext=blob,
    )
    events = _tip_events(tip, amount=format_amount(minor, cur), has_message=message is not None,
                         suspicious_minor=suspicious_minor)
    principal = f"user:{sender_id}"
    if database.dialect == "postgresql":
        outcome = await _send_tip_postgres(database, principal=principal, key=key,
                                           request=request, tip=tip, entry_id=entry_id,
                                           events=events)
    else:

        async def perform(tx: AsyncSession) -> dict[str, Any]:
            await post_entry(
                tx,
                kind="tip",
                reference=f"tip:{tip_id}",
                postings=[
                    Posting(account=user_account(sender_id, cur.code), amount=-minor),
                    Posting(account=user_account(recipient_id, cur.code), amount=minor),
                ],
                entry_id=entry_id,
            )
            tx.add(Tip(
                id=tip_id, sender_id=sender_id, recipient_id=recipient_id, post_id=post_id,
                currency=cur.code, amount=minor, message_kid=kid, message_ciphertext=blob,
                entry_id=entry_id, created_at=tip.created_at,
            ))
            for topic, event_key, payload in events:
                await emit(tx, topic=topic, key=event_key, payload=payload)
            return _result(tip_id, entry_id)

        async with database.session() as session:
            outcome = await run_idempotent(
                session, principal=principal, key=key, operation=_OPERATION,
                request=request, perform=perform,
            )
    if not outcome.replayed:
        return SentTip(tip=tip, replayed=False)
    async with database.session() as session:
        stored = await get_tip(session=session, tip_id=outcome.result["tipId"])
    assert stored is not None, "an idempotency record points at a missing tip"
    return SentTip(tip=stored, replayed=True)


def _result(tip_id: str, entry_id: str) -> dict[str, Any]:
    return {"tipId": tip_id, "entryId": entry_id}


def _tip_events(tip: TipView, *, amount: str, has_message: bool,
                suspicious_minor: int | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(topic, key, payload) of the outbox events a tip writes with its entry."""
    events = [(TOPIC_TIP_SENT, tip.id, {
        "tipId": tip.id, "fromUserId": tip.sender_id, "toUserId": tip.recipient_id,
        "postId": tip.post_id, "currency": tip.currency, "amount": amount,
        "amountMinor": tip.amount, "hasMessage": has_message,
    })]
    if suspicious_minor is not None and tip.amount >= suspicious_minor:
        events.append((TOPIC_SUSPICIOUS, tip.sender_id, {
            "reason": "LARGE_TIP", "userId": tip.sender_id, "tipId": tip.id,
            "recipientId": tip.recipient_id, "currency": tip.currency, "amountMinor": tip.amount,
        }))
    return events


# One round trip: see migrations/versions/0003_send_tip_function.py for what the function does.
_SEND_TIP_SQL = (
    "SELECT out_replayed, out_operation, out_request_hash, out_result "
    "FROM wallet_send_tip($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
)
_INSUFFICIENT = "wallet: insufficient funds"
_FROZEN = "wallet: account frozen"  # migration 0005
_ATTEMPTS = 3


async def _send_tip_postgres(
    database: Database, *, principal: str, key: str, request: dict[str, Any], tip: TipView,
    entry_id: str, events: list[tuple[str, str, dict[str, Any]]],
) -> IdempotentResult:
    """The tip as one `wallet_send_tip` call on a direct (asyncpg) connection, its own transaction.

    Every value is a bound parameter of a fixed statement; skipping the ORM session here took
    most of a tip's CPU away.
    """
    digest = request_hash(_OPERATION, request)
    result = _result(tip.id, entry_id)
    event_rows = orjson.dumps([
        {"id": new_id(), "topic": topic, "key": event_key, "payload": payload}
        for topic, event_key, payload in events
    ]).decode()
    async with database.direct() as connection:
        return await _call_send_tip(connection, principal=principal, key=key, digest=digest,
                                    result=result, tip=tip, entry_id=entry_id,
                                    event_rows=event_rows)


async def _call_send_tip(
    connection: asyncpg.Connection, *, principal: str, key: str, digest: str, result: dict[str, Any], tip: TipView,
    entry_id: str, event_rows: str,
) -> IdempotentResult:
    for _ in range(_ATTEMPTS):
        try:
            row = await connection.fetchrow(
                _SEND_TIP_SQL, principal, key, _OPERATION, digest, orjson.dumps(result).decode(),
                tip.id, entry_id, tip.sender_id, tip.recipient_id, tip.currency, tip.amount,
                tip.post_id, tip.message_kid, tip.message_ciphertext, event_rows, tip.created_at,
            )
        except asyncpg.RaiseError as error:
            if error.args and error.args[0] == _INSUFFICIENT:
                raise InsufficientFundsError(currency=tip.currency, available=int(error.detail or 0),
                                             requested=tip.amount) from None
            if error.args and error.args[0] == _FROZEN:
                raise AccountFrozenError(currency=tip.currency, owed=int(error.detail or 0)) from None
            raise
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            continue  # rolled back as a whole; the same ids are free to use again
        if not row["out_replayed"]:
            return IdempotentResult(result=result, replayed=False)
        return replay(key=key, operation=_OPERATION, digest=digest,
                      stored_operation=row["out_operation"], stored_digest=row["out_request_hash"],
                      stored_result=orjson.loads(row["out_result"]))
    raise ConflictError("Could not complete the tip; retry with the same idempotency key",
                        extensions={"reason": "RETRY"})


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
