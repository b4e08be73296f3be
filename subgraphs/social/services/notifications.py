"""Notifications: rows written in the triggering transaction, pushed to subscribers after commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError
from shared.redis import KeyValue
from subgraphs.social.models import Notification, utcnow
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._validation import check_ref_ids
from subgraphs.social.services.realtime import notification_channel, publish

__all__ = [
    "NOTIFICATION_KINDS",
    "add_notification",
    "handle_tip_sent",
    "list_notifications",
    "mark_notifications_read",
    "notification_payload",
    "publish_notifications",
    "unread_notification_count",
]

NOTIFICATION_KINDS = ("follow", "reaction", "comment", "mention", "message", "tip", "cashout",
                      "suspicious_activity", "reconciliation_break", "follow_request",
                      "follow_accepted", "message_request", "conversation_invite")
_CURSOR = "notifications"


async def add_notification(
    session: AsyncSession,
    *,
    user_id: str,
    kind: str,
    actor_id: str | None,
    subject_id: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Stage a notification in the caller's transaction; None when it would notify oneself
    or when `dedupe_key` was already used (a redelivered event)."""
    assert kind in NOTIFICATION_KINDS, kind
    if actor_id is not None and actor_id == user_id:
        return None
    row = Notification(
        user_id=user_id,
        kind=kind,
        actor_id=actor_id,
        subject_id=subject_id,
        data=orjson.dumps(data or {}).decode(),
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        session.add(row)
        return row
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return None
    return row


def notification_payload(row: Notification) -> dict[str, Any]:
    return {
        "id": row.id,
        "userId": row.user_id,
        "kind": row.kind,
        "actorId": row.actor_id,
        "subjectId": row.subject_id,
        "data": row.data,
        "createdAt": row.created_at.isoformat(),
        "readAt": row.read_at.isoformat() if row.read_at else None,
    }


async def publish_notifications(kv: KeyValue, rows: Sequence[Notification | None]) -> None:
    """Push committed notifications to each recipient's channel (call after commit)."""
    for row in rows:
        if row is not None:
            await publish(kv, notification_channel(row.user_id), notification_payload(row))


async def list_notifications(
    *, session: AsyncSession, user_id: str, first: int, after: str | None = None,
    unread_only: bool = False,
) -> Page[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))  # type: ignore[union-attr]
    if after is not None:
        created_at, row_id = decode_cursor(_CURSOR, after, (datetime, str))
        query = query.where(
            keyset_after([Notification.created_at, Notification.id], [created_at, row_id], descending=True)
        )
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = list((await session.execute(query)).scalars())
    items = rows[:first]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor(_CURSOR, r.created_at, r.id) for r in items),
        has_next_page=len(rows) > first,
    )


async def unread_notification_count(*, session: AsyncSession, user_id: str) -> int:
    from sqlalchemy import func

    query = select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)  # type: ignore[union-attr]
    )
    return int((await session.execute(query)).scalar_one())


async def mark_notifications_read(
    *, session: AsyncSession, user_id: str, ids: Sequence[str] | None = None
) -> int:
    """Mark the caller's notifications read (all of them when `ids` is None); returns how many."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)  # type: ignore[union-attr]
    )
    if ids is not None:
        if len(ids) > 500:
            raise BadUserInputError("At most 500 ids at once", extensions={"argument": "ids"})
        statement = statement.where(Notification.id.in_(ids))  # type: ignore[attr-defined]
    result = await session.execute(statement.values(read_at=utcnow()))
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def handle_tip_sent(
    *, session: AsyncSession, kv: KeyValue, event_id: str, payload: dict[str, Any]
) -> bool:
    """Consume wallet's `wallet.tip_sent` event; a redelivery of the same event is a no-op.

    Payload: {"fromUserId", "toUserId", "amount", "currency", "postId"?}. Returns True when a
    notification was created.
    """
    try:
        recipient = str(payload["toUserId"])
        sender = str(payload["fromUserId"])
    except KeyError as error:
        raise BadUserInputError(f"tip event {event_id} lacks {error.args[0]}") from error
    check_ref_ids([recipient, sender], argument="payload")
    data = {k: payload[k] for k in ("tipId", "amount", "currency", "postId") if k in payload}
    row = await add_notification(
        session,
        user_id=recipient,
        kind="tip",
        actor_id=sender,
        subject_id=payload.get("postId"),
        data=data,
        dedupe_key=f"wallet.tip_sent:{event_id}",
    )
    await session.commit()
    await publish_notifications(kv, [row])
    return row is not None
