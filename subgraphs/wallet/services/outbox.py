"""Outbox events of the wallet, written in the business transaction (shared.events)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.wallet.models import OutboxRecord

__all__ = ["TOPIC_CASHOUT", "TOPIC_RECONCILIATION_BREAK", "TOPIC_SUSPICIOUS", "TOPIC_TIP_SENT", "emit", "list_events"]

TOPIC_TIP_SENT = "wallet.tip_sent"
TOPIC_SUSPICIOUS = "wallet.suspicious_activity"
TOPIC_RECONCILIATION_BREAK = "wallet.reconciliation_break"
TOPIC_CASHOUT = "wallet.cashout_updated"


async def emit(session: AsyncSession, *, topic: str, payload: dict[str, Any], key: str | None = None) -> str:
    """Record an event in the caller's transaction; it exists iff the transaction commits."""
    event_id = uuid.uuid4().hex
    session.add(OutboxRecord(id=event_id, topic=topic, key=key, payload=payload))
    return event_id


async def list_events(*, session: AsyncSession, topic: str | None = None) -> list[OutboxRecord]:
    query = sa.select(OutboxRecord).order_by(OutboxRecord.created_at)  # type: ignore[arg-type]
    if topic is not None:
        query = query.where(OutboxRecord.topic == topic)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())
