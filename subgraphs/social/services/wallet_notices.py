"""Notifications born from the wallet's events: cashouts for their owner, alarms for admins.

Each handler runs inside the consumer's transaction after `mark_processed` claimed the event,
and also sets a `dedupe_key`, so a redelivered event never notifies twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError
from shared.redis import KeyValue
from subgraphs.social.services._validation import check_ref_ids
from subgraphs.social.services.notifications import add_notification, publish_notifications

__all__ = [
    "ADMINS",
    "handle_cashout_updated",
    "handle_reconciliation_break",
    "handle_suspicious_activity",
]

# The audience of admin notifications: no user id can look like it (ids have no colon here).
ADMINS = "role:ADMIN"


def _field(payload: dict[str, Any], name: str, event_id: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise BadUserInputError(f"event {event_id} lacks {name}")
    return value


async def handle_cashout_updated(*, session: AsyncSession, kv: KeyValue, event_id: str,
                                 payload: dict[str, Any]) -> bool:
    """`wallet.cashout_updated`: tell the owner where their cashout stands (not its request,
    which they made themselves). Returns True when a notification was created."""
    status = _field(payload, "status", event_id)
    if status == "requested":
        await session.commit()  # keeps the claim: the event is handled
        return False
    user_id = check_ref_ids([_field(payload, "userId", event_id)], argument="payload")[0]
    data = {k: payload[k] for k in ("status", "currency", "amountMinor") if k in payload}
    row = await add_notification(
        session, user_id=user_id, kind="cashout", actor_id=None,
        subject_id=_field(payload, "cashoutId", event_id), data=data,
        dedupe_key=f"wallet.cashout_updated:{event_id}")
    await session.commit()
    await publish_notifications(kv, [row])
    return row is not None


async def handle_suspicious_activity(*, session: AsyncSession, event_id: str,
                                     payload: dict[str, Any]) -> bool:
    """`wallet.suspicious_activity`: an admin notification naming the user it concerns."""
    user_id = check_ref_ids([_field(payload, "userId", event_id)], argument="payload")[0]
    subject = payload.get("tipId") if isinstance(payload.get("tipId"), str) else user_id
    row = await add_notification(
        session, user_id=ADMINS, kind="suspicious_activity", actor_id=user_id,
        subject_id=subject, data=payload, dedupe_key=f"wallet.suspicious_activity:{event_id}")
    await session.commit()
    return row is not None


async def handle_reconciliation_break(*, session: AsyncSession, event_id: str,
                                      payload: dict[str, Any]) -> bool:
    """`wallet.reconciliation_break`: an admin notification about the account/entry at fault."""
    subject = _field(payload, "subject", event_id)[:64]
    row = await add_notification(
        session, user_id=ADMINS, kind="reconciliation_break", actor_id=None,
        subject_id=subject, data=payload, dedupe_key=f"wallet.reconciliation_break:{event_id}")
    await session.commit()
    return row is not None
