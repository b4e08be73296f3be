"""Outbox events of the wallet, written in the business transaction (shared.events)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import OutboxEvent, add_event

__all__ = [
    "TOPIC_CASHOUT",
    "TOPIC_RECONCILIATION_BREAK",
    "TOPIC_SUSPICIOUS",
    "TOPIC_TIP_SENT",
    "emit",
    "list_events",
]

TOPIC_TIP_SENT = "wallet.tip_sent"
TOPIC_SUSPICIOUS = "wallet.suspicious_activity"
TOPIC_RECONCILIATION_BREAK = "wallet.reconciliation_break"
TOPIC_CASHOUT = "wallet.cashout_updated"


async def emit(session: AsyncSession, *, topic: str, payload: dict[str, Any], key: str | None = None) -> str:
    """Record an event in the caller's transaction; it is published iff the transaction commits."""
    return await add_event(session, topic=topic, payload=payload, key=key)


async def list_events(*, session: AsyncSession, topic: str | None = None) -> list[OutboxEvent]:
    query = sa.select(OutboxEvent).order_by(OutboxEvent.created_at, OutboxEvent.id)  # type: ignore[arg-type]
    if topic is not None:
        query = query.where(OutboxEvent.topic == topic)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())
