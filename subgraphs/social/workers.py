"""Event consumers of the social subgraph (dramatiq actors via `shared.events.event_handler`).

Run in-process by the app in embedded mode; in production `dramatiq subgraphs.social.workers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq

from shared.db import Database, database_from_settings
from shared.events import Event, event_handler, mark_processed
from shared.jobs import configure_broker
from shared.redis import KeyValue, create_kv
from subgraphs.social.config import SocialSettings
from subgraphs.social.services import notifications, wallet_notices

__all__ = [
    "CONSUMER",
    "bind",
    "on_cashout_updated",
    "on_reconciliation_break",
    "on_suspicious_activity",
    "on_tip_sent",
]

CONSUMER = "social"

if dramatiq.broker.global_broker is None:
    # Imported by the `dramatiq subgraphs.social.workers` CLI (`worker social`): declare the
    # handlers on the broker the settings name (Redis + AsyncIO), not on dramatiq's default one.
    configure_broker(SocialSettings().redis_url)


@dataclass
class _Resources:
    database: Database
    kv: KeyValue


_bound: _Resources | None = None


def bind(*, database: Database, kv: KeyValue) -> None:
    """Use the app's database and KV (embedded worker on the app's event loop)."""
    global _bound
    _bound = _Resources(database=database, kv=kv)


def _resources() -> _Resources:
    global _bound
    if _bound is None:  # a standalone dramatiq worker process
        settings = SocialSettings()
        _bound = _Resources(
            database=database_from_settings(settings),
            kv=create_kv(settings.redis_url, prefix=settings.kv_prefix),
        )
    return _bound


@event_handler("wallet.tip_sent", consumer=CONSUMER)
async def on_tip_sent(event: Event) -> None:
    """A tip notification for the recipient, once per event however often it is delivered."""
    resources = _resources()
    async with resources.database.session() as session:
        if not await mark_processed(session, consumer=CONSUMER, event_id=event.id):
            return
        await notifications.handle_tip_sent(
            session=session, kv=resources.kv, event_id=event.id, payload=event.payload
        )


@event_handler("wallet.cashout_updated", consumer=CONSUMER)
async def on_cashout_updated(event: Event) -> None:
    """The owner hears of their cashout's progress, once per event."""
    resources = _resources()
    async with resources.database.session() as session:
        if not await mark_processed(session, consumer=CONSUMER, event_id=event.id):
            return
        await wallet_notices.handle_cashout_updated(
            session=session, kv=resources.kv, event_id=event.id, payload=event.payload)


@event_handler("wallet.suspicious_activity", consumer=CONSUMER)
async def on_suspicious_activity(event: Event) -> None:
    """Admins hear of velocity refusals and large tips, once per event."""
    async with _resources().database.session() as session:
        if not await mark_processed(session, consumer=CONSUMER, event_id=event.id):
            return
        await wallet_notices.handle_suspicious_activity(
            session=session, event_id=event.id, payload=event.payload)


@event_handler("wallet.reconciliation_break", consumer=CONSUMER)
async def on_reconciliation_break(event: Event) -> None:
    """Admins hear of every ledger reconciliation break, once per event."""
    async with _resources().database.session() as session:
        if not await mark_processed(session, consumer=CONSUMER, event_id=event.id):
            return
        await wallet_notices.handle_reconciliation_break(
            session=session, event_id=event.id, payload=event.payload)
