"""Wallet's events become social notifications, once each, even when delivered twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.db import Database, create_database
from shared.events import (
    EVENTS_METADATA,
    BrokerPublisher,
    EventRoutes,
    OutboxRelay,
    ProcessedEvent,
    add_event,
)
from shared.jobs import configure_broker, embedded_worker
from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import redis_url, sqlite_url
from subgraphs.social import workers
from subgraphs.social.models import Notification
from subgraphs.social.services.wallet_notices import ADMINS

# (topic, payload as the wallet writes it, audience, kind, actor, subject)
CASES = [
    ("wallet.cashout_updated",
     {"cashoutId": "c1", "userId": "bob", "status": "paid", "currency": "USD", "amountMinor": 500},
     "bob", "cashout", None, "c1"),
    ("wallet.suspicious_activity",
     {"reason": "LARGE_TIP", "userId": "mallory", "tipId": "t1", "recipientId": "bob",
      "currency": "USD", "amountMinor": 1_000_000},
     ADMINS, "suspicious_activity", "mallory", "t1"),
    ("wallet.suspicious_activity",
     {"reason": "VELOCITY", "action": "tip", "scope": "ip", "userId": "mallory", "ip": "10.0.0.9",
      "limit": 30, "windowSeconds": 60},
     ADMINS, "suspicious_activity", "mallory", "mallory"),
    ("wallet.reconciliation_break",
     {"kind": "cached_mismatch", "currency": "USD", "subject": "42", "expected": 1000, "actual": 900},
     ADMINS, "reconciliation_break", None, "42"),
]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def routes_kv(request: pytest.FixtureRequest) -> AsyncIterator[KeyValue]:
    """Where the relay looks for KV routes; nothing is registered in it (the catalog suffices)."""
    prefix = f"tributary_test_social:routes:{uuid.uuid4().hex}:"
    kv = (create_kv(redis_url(), prefix=prefix) if request.param == "redis"
          else create_kv(None, prefix=prefix, store=MemoryStore()))
    yield kv
    await kv.close()


@pytest.fixture
async def wallet_outbox(tmp_path: Path) -> AsyncIterator[Database]:
    wallet = create_database(sqlite_url(tmp_path, "wallet"))
    async with wallet.engine.begin() as connection:
        await connection.run_sync(EVENTS_METADATA.create_all)
    yield wallet
    await wallet.dispose()


@pytest.fixture
def bound(database: Database, kv: KeyValue):
    workers.bind(database=database, kv=kv)
    yield
    workers._bound = None


async def _relay_twice(wallet: Database, routes_kv: KeyValue, topic: str, payload: dict) -> str:
    """Relay one wallet event to social's declared consumer, then deliver it once more."""
    async with wallet.transaction() as session:
        event_id = await add_event(session, topic=topic, payload=payload)
    broker = configure_broker(None)
    publisher = BrokerPublisher(broker, EventRoutes(routes_kv))
    recorded = []
    relay = OutboxRelay(wallet, publisher, router=publisher, on_published=recorded.append)
    async with embedded_worker(broker) as worker:
        assert await relay.run_once() == 1
        await publisher.publish(recorded)  # at-least-once: the same event again
        await worker.join()
        assert worker.dead_letters == []
    return event_id


@pytest.mark.parametrize(("topic", "payload", "audience", "kind", "actor", "subject"), CASES)
async def test_wallet_event_notifies_exactly_once_when_delivered_twice(
        database, bound, routes_kv, wallet_outbox, topic, payload, audience, kind, actor, subject):
    event_id = await _relay_twice(wallet_outbox, routes_kv, topic, payload)
    async with database.session() as session:
        rows = list((await session.execute(select(Notification))).scalars())
        claims = (await session.execute(select(func.count()).select_from(ProcessedEvent).where(
            ProcessedEvent.event_id == event_id))).scalar_one()
    assert [(r.user_id, r.kind, r.actor_id, r.subject_id, r.dedupe_key) for r in rows] == [
        (audience, kind, actor, subject, f"{topic}:{event_id}")]
    assert claims == 1


async def test_a_cashout_request_is_handled_without_notifying_its_own_requester(
        database, bound, routes_kv, wallet_outbox):
    event_id = await _relay_twice(wallet_outbox, routes_kv, "wallet.cashout_updated", {
        "cashoutId": "c2", "userId": "bob", "status": "requested", "currency": "USD",
        "amountMinor": 500})
    async with database.session() as session:
        count = (await session.execute(select(func.count()).select_from(Notification))).scalar_one()
        claimed = await session.get(ProcessedEvent, ("social", event_id))
    assert count == 0 and claimed is not None
