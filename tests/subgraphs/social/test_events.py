"""Events: social's outbox (post created) and the idempotent consumer of wallet's tips."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from shared.db import create_database
from shared.events import (
    EVENTS_METADATA,
    BrokerPublisher,
    EventRoutes,
    OutboxEvent,
    OutboxRelay,
    add_event,
)
from shared.jobs import configure_broker
from shared.redis import MemoryStore, create_kv
from shared.testing import sqlite_url
from subgraphs.social.models import Notification
from subgraphs.social.services import posts, realtime

from ._client import WsClient, wait_subscribed
from .test_app_ws import social_server, token


async def test_post_creation_writes_an_outbox_event(database, kv):
    async with database.session() as session:
        post = await posts.create_post(session=session, kv=kv, author_id="alice", text="hello",
                                       visibility="public", media_ids=["m1"])
    async with database.session() as session:
        rows = list((await session.execute(select(OutboxEvent))).scalars())
    assert [(r.topic, r.key, r.payload["authorId"], r.payload["mediaIds"]) for r in rows] == [
        ("social.post_created", post.id, "alice", ["m1"])
    ]


async def test_tip_event_from_wallet_notifies_once_even_when_redelivered(database, tmp_path, issuer):
    routes_kv = create_kv(None, prefix=f"test:routes:{uuid.uuid4().hex}:", store=MemoryStore())
    kv = create_kv(None, prefix=f"test:social:{uuid.uuid4().hex}:", store=MemoryStore())
    # Wallet's side: its own database with an outbox, relayed to the consumers routed in the KV.
    wallet = create_database(sqlite_url(tmp_path, "wallet"))
    async with wallet.engine.begin() as connection:
        await connection.run_sync(EVENTS_METADATA.create_all)
    async with social_server(database, kv, issuer, routes_kv=routes_kv) as (base_url, app):
        bob = await WsClient.connect(base_url, token=token(issuer, "bob"))
        try:
            await bob.acknowledged()
            await bob.subscribe("n", "subscription { notificationAdded { kind actor { id } subjectId data } }")
            await wait_subscribed(kv, realtime.notification_channel("bob"))
            async with wallet.transaction() as session:
                await add_event(session, topic="wallet.tip_sent", payload={
                    "fromUserId": "alice", "toUserId": "bob", "amount": "2.50", "currency": "USDC",
                    "postId": "p1"})
            publisher = BrokerPublisher(configure_broker(None), EventRoutes(routes_kv))
            recorded = []
            relay = OutboxRelay(wallet, publisher, on_published=recorded.append)
            assert await relay.run_once() == 1
            await publisher.publish(recorded[:1])  # at-least-once: a redelivery
            notice = await bob.receive()
            assert notice["payload"]["data"]["notificationAdded"] == {
                "kind": "TIP", "actor": {"id": "alice"}, "subjectId": "p1",
                "data": {"amount": "2.50", "currency": "USDC", "postId": "p1"},
            }
            await app.state.events.worker.join()
        finally:
            await bob.close()
    async with database.session() as session:
        count = (await session.execute(select(func.count()).select_from(Notification).where(
            Notification.kind == "tip"))).scalar_one()
    assert count == 1
    await wallet.dispose()
