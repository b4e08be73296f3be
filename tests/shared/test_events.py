"""Outbox: published iff committed, relay marks published, idempotent consumers, fan-out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text
from sqlmodel import select

from shared.db import Database, create_database
from shared.dead_letters import list_dead_letters, replay_dead_letter, replay_topic
from shared.events import (
    NO_CONSUMER,
    BrokerPublisher,
    DeadLetterBudget,
    Event,
    EventRoutes,
    KVPublisher,
    OutboxEvent,
    OutboxRelay,
    add_event,
    create_event_tables,
    event_handler,
    mark_processed,
)
from shared.jobs import configure_broker, embedded_worker
from shared.redis import KeyValue, MemoryStore, create_kv


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.events: list[Event] = []
        self.batches: list[int] = []
        self.fail = fail

    async def publish(self, events: Sequence[Event]) -> None:
        self.batches.append(len(events))
        for event in events:
            if self.fail:
                self.fail -= 1
                raise ConnectionError("broker down")
            self.events.append(event)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    database = create_database(db_url)

    def migrate(conn: object) -> None:
        op = Operations(MigrationContext.configure(conn))
        conn.execute(text("DROP TABLE IF EXISTS outbox_events"))  # type: ignore[attr-defined]
        conn.execute(text("DROP TABLE IF EXISTS processed_events"))  # type: ignore[attr-defined]
        conn.execute(text("DROP TABLE IF EXISTS dead_letter_events"))  # type: ignore[attr-defined]
        create_event_tables(op)

    async with database.engine.begin() as conn:
        await conn.run_sync(migrate)
    yield database
    await database.dispose()


async def test_event_published_only_when_transaction_commits(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await add_event(session, topic="user.registered", payload={"id": "rolled-back"})
            raise RuntimeError("registration failed after the event was added")
    async with database.transaction() as session:
        event_id = await add_event(session, topic="user.registered", payload={"id": "u1"},
                                   key="u1")
    recorder = Recorder()
    relay = OutboxRelay(database, recorder)
    assert await relay.run_once() == 1
    assert [(e.id, e.topic, e.key, e.payload) for e in recorder.events] == [
        (event_id, "user.registered", "u1", {"id": "u1"})]
    assert await relay.run_once() == 0  # marked published: not sent twice
    async with database.session() as session:
        row = (await session.exec(select(OutboxEvent))).one()
    assert row.published_at is not None and row.attempts == 1


async def test_failed_publish_is_retried_in_order(database: Database) -> None:
    async with database.transaction() as session:
        first = await add_event(session, topic="t", payload={"n": 1})
    async with database.transaction() as session:
        second = await add_event(session, topic="t", payload={"n": 2})
    recorder = Recorder(fail=2)  # down for the batch and for the one-by-one retry of it
    relay = OutboxRelay(database, recorder)
    assert await relay.run_once() == 0
    async with database.session() as session:
        row = await session.get(OutboxEvent, first)
    assert row is not None and row.published_at is None and row.attempts == 1
    assert "broker down" in (row.last_error or "")
    assert await relay.run_once() == 2
    assert [e.id for e in recorder.events] == [first, second]
    assert recorder.batches == [2, 1, 2]


async def test_a_failing_event_holds_back_only_itself_and_what_follows(database: Database) -> None:
    ids = []
    for n in range(4):
        async with database.transaction() as session:
            ids.append(await add_event(session, topic="t", payload={"n": n}))

    class PoisonThird(Recorder):
        async def publish(self, events: Sequence[Event]) -> None:
            self.batches.append(len(events))
            if any(e.id == ids[2] for e in events):
                raise ConnectionError("rejected")
            self.events.extend(events)

    recorder = PoisonThird()
    relay = OutboxRelay(database, recorder)
    assert await relay.run_once() == 2  # the batch failed; one by one, the first two went out
    assert [e.id for e in recorder.events] == ids[:2]
    assert await relay.run_once() == 0  # the third still fails, the fourth waits behind it
    async with database.session() as session:
        rows = {row.id: row for row in (await session.exec(select(OutboxEvent))).all()}
    assert [rows[i].published_at is not None for i in ids] == [True, True, False, False]
    assert [rows[i].attempts for i in ids] == [1, 1, 2, 0]
    assert "rejected" in (rows[ids[2]].last_error or "")


async def test_non_json_payload_fails_in_the_business_transaction(database: Database) -> None:
    with pytest.raises(TypeError):
        async with database.transaction() as session:
            await add_event(session, topic="t", payload={"when": object()})


async def test_mark_processed_is_idempotent(database: Database) -> None:
    async with database.transaction() as session:
        assert await mark_processed(session, consumer="social", event_id="e1")
    async with database.transaction() as session:
        assert not await mark_processed(session, consumer="social", event_id="e1")
        assert await mark_processed(session, consumer="wallet", event_id="e1")
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            assert await mark_processed(session, consumer="social", event_id="e2")
            raise RuntimeError("consumer failed: its claim goes with it")
    async with database.transaction() as session:
        assert await mark_processed(session, consumer="social", event_id="e2")


async def test_relay_to_embedded_worker_with_idempotent_consumer(database: Database) -> None:
    consumer = f"demo{uuid.uuid4().hex[:8]}"
    seen: list[str] = []
    effects: list[str] = []

    @event_handler("user.registered", consumer=consumer)
    async def welcome(event: Event) -> None:
        seen.append(event.id)
        async with database.transaction() as session:
            if await mark_processed(session, consumer=consumer, event_id=event.id):
                effects.append(event.payload["handle"])

    broker = configure_broker(None)
    kv = create_kv(None, prefix="events:", store=MemoryStore())
    routes = EventRoutes(kv)
    await routes.register("user.registered", queue_name=consumer, actor_name=welcome.actor_name)
    recorder = Recorder()
    relay = OutboxRelay(database, [BrokerPublisher(broker, routes), KVPublisher(kv), recorder])
    async with database.transaction() as session:
        await add_event(session, topic="user.registered", payload={"handle": "ann"})
    async with kv.subscribe("events:user.registered") as live, embedded_worker(broker) as worker:
        assert await relay.run_once() == 1
        # At-least-once: the same event delivered again must not repeat its effect.
        await BrokerPublisher(broker, routes).publish(recorder.events[:1])
        await worker.join()
        channel, _ = await anext(live)
    assert channel == "events:user.registered"
    assert len(seen) == 2 and effects == ["ann"]


async def test_app_factory_runs_relay_and_consumers(database: Database, tmp_path) -> None:
    import asyncio

    import strawberry

    from shared.app import create_subgraph_app
    from shared.config import ServiceSettings, load_settings
    from shared.events import EventsRuntime

    service = f"svc{uuid.uuid4().hex[:8]}"
    received: asyncio.Queue[Event] = asyncio.Queue()

    @event_handler("order.placed", consumer=service)
    async def on_order(event: Event) -> None:
        await received.put(event)

    @strawberry.type
    class Query:
        ok: bool = True

    settings = load_settings(ServiceSettings, service_name=service, data_dir=str(tmp_path),
                             outbox_poll_interval=0.05)
    routes_kv = create_kv(None, prefix="routes:", store=MemoryStore())
    runtime = EventsRuntime(settings=settings, database=database, routes_kv=routes_kv)
    app = create_subgraph_app(settings=settings, schema=strawberry.federation.Schema(query=Query),
                              database=database, kv=create_kv(None, prefix="x:"), verifier=None,
                              events=runtime)
    async with app.router.lifespan_context(app):
        assert runtime.relay is not None
        async with database.transaction() as session:
            event_id = await add_event(session, topic="order.placed", payload={"n": 1})
        runtime.relay.wake()
        event = await asyncio.wait_for(received.get(), 10)
    assert event.id == event_id and event.payload == {"n": 1}


class Clock:
    """The relay's clock, moved by the test (no sleeping, no timed assertions)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def _rows(database: Database) -> dict[str, OutboxEvent]:
    async with database.session() as session:
        return {row.id: row for row in (await session.exec(select(OutboxEvent))).all()}


async def test_event_with_no_consumer_waits_and_is_delivered_once_one_registers(
        database: Database, kv: KeyValue) -> None:
    """The loss the relay had: no route registered used to mean 'published' and gone."""
    consumer = f"late{uuid.uuid4().hex[:8]}"
    topic = f"user.registered.{consumer}"
    effects: list[str] = []

    @event_handler(topic, consumer=consumer)
    async def welcome(event: Event) -> None:
        async with database.transaction() as session:
            if await mark_processed(session, consumer=consumer, event_id=event.id):
                effects.append(event.payload["handle"])

    broker = configure_broker(None)
    routes = EventRoutes(kv)
    publisher = BrokerPublisher(broker, routes)
    clock = Clock()
    relay = OutboxRelay(database, publisher, router=publisher, clock=clock)
    async with database.transaction() as session:
        event_id = await add_event(session, topic=topic, payload={"handle": "ann"})
    async with embedded_worker(broker) as worker:
        assert await relay.run_once() == 0  # nobody consumes the topic: it is not published
        row = (await _rows(database))[event_id]
        assert row.published_at is None and row.attempts == 1
        assert row.last_error == NO_CONSUMER and row.next_attempt_at is not None
        assert await relay.run_once() == 0  # not due again yet
        assert (await _rows(database))[event_id].attempts == 1

        await routes.register(topic, queue_name=consumer, actor_name=welcome.actor_name)
        clock.advance(DeadLetterBudget().wait(1))
        assert await relay.run_once() == 1
        await BrokerPublisher(broker, routes).publish([Event.from_row(row)])  # delivered twice
        await worker.join()
    assert effects == ["ann"]
    assert (await _rows(database))[event_id].published_at is not None


async def test_event_with_no_consumer_becomes_a_dead_letter_and_replays(database: Database) -> None:
    consumer = f"dl{uuid.uuid4().hex[:8]}"
    topic = f"order.placed.{consumer}"
    kv = create_kv(None, prefix="events:", store=MemoryStore())
    broker = configure_broker(None)
    routes = EventRoutes(kv)
    publisher = BrokerPublisher(broker, routes)
    clock = Clock()
    budget = DeadLetterBudget(max_attempts=3, max_age_seconds=3600)
    relay = OutboxRelay(database, publisher, router=publisher, clock=clock, budget=budget)
    async with database.transaction() as session:
        event_id = await add_event(session, topic=topic, key="o1", payload={"n": 1})
    for attempt in range(1, 4):
        assert await relay.run_once() == 0
        clock.advance(budget.wait(attempt))
    assert event_id not in await _rows(database)
    async with database.session() as session:
        letters = await list_dead_letters(session=session)
    assert [(d.id, d.topic, d.key, d.payload, d.attempts) for d in letters] == [
        (event_id, topic, "o1", {"n": 1}, 3)]

    received: list[str] = []

    @event_handler(topic, consumer=consumer)
    async def on_order(event: Event) -> None:
        received.append(event.id)

    await routes.register(topic, queue_name=consumer, actor_name=on_order.actor_name)
    async with database.session() as session:
        assert await replay_dead_letter(session=session, event_id=event_id)
        assert not await replay_dead_letter(session=session, event_id=event_id)
        assert await list_dead_letters(session=session) == []
    async with embedded_worker(broker) as worker:
        assert await relay.run_once() == 1
        await worker.join()
    assert received == [event_id]  # the same id: consumers that saw it before deduplicate


async def test_an_event_older_than_its_budget_is_dead_lettered_at_once(database: Database) -> None:
    kv = create_kv(None, prefix="events:", store=MemoryStore())
    publisher = BrokerPublisher(configure_broker(None), EventRoutes(kv))
    clock = Clock()
    relay = OutboxRelay(database, publisher, router=publisher, clock=clock,
                        budget=DeadLetterBudget(max_age_seconds=60))
    async with database.transaction() as session:
        event_id = await add_event(session, topic=f"t.{uuid.uuid4().hex}", payload={})
    clock.advance(61)
    assert await relay.run_once() == 0
    async with database.session() as session:
        assert [d.id for d in await list_dead_letters(session=session)] == [event_id]
        assert await replay_topic(session=session, topic="no.such.topic") == 0


async def test_a_waiting_topic_holds_back_only_itself_and_keeps_its_order(database: Database) -> None:
    consumer = f"ord{uuid.uuid4().hex[:8]}"
    waiting, flowing = f"a.{consumer}", f"b.{consumer}"
    kv = create_kv(None, prefix="events:", store=MemoryStore())
    routes = EventRoutes(kv)
    received: list[int] = []

    @event_handler(waiting, consumer=consumer)
    async def on_a(event: Event) -> None:
        received.append(event.payload["n"])

    @event_handler(flowing, consumer=consumer)
    async def on_b(event: Event) -> None:
        received.append(event.payload["n"])

    broker = configure_broker(None)
    publisher = BrokerPublisher(broker, routes)
    await routes.register(flowing, queue_name=consumer, actor_name=on_b.actor_name)
    clock = Clock()
    relay = OutboxRelay(database, publisher, router=publisher, clock=clock)
    for n, topic in enumerate([waiting, flowing, waiting]):
        async with database.transaction() as session:
            await add_event(session, topic=topic, payload={"n": n})
    async with embedded_worker(broker) as worker:
        assert await relay.run_once() == 1  # b went out; both a events wait
        await worker.join()
        assert received == [1]
        await routes.register(waiting, queue_name=consumer, actor_name=on_a.actor_name)
        async with database.transaction() as session:  # a newer a event, due at once
            await add_event(session, topic=waiting, payload={"n": 3})
        # The topic has a consumer now: its waiting events are released, and nothing of it
        # is sent in this poll so that the next one sends 0, 2, 3 in their order.
        assert await relay.run_once() == 0
        assert await relay.run_once() == 3
        await worker.join()
    assert received == [1, 0, 2, 3]


@pytest.mark.redis
async def test_declared_consumer_gets_the_event_through_redis_before_it_starts(
        database: Database) -> None:
    """A consumer declared in code needs no KV route: the Redis queue holds the message."""
    import threading

    import dramatiq

    from shared.event_catalog import Consumer
    from shared.testing import redis_url

    service = f"later{uuid.uuid4().hex[:8]}"
    topic = f"wallet.cashout_updated.{service}"
    broker = configure_broker(redis_url())
    got: list[str] = []
    done = threading.Event()

    def declared(name: str) -> list[Consumer]:
        return [Consumer(topic=topic, service=service)] if name == topic else []

    kv = create_kv(None, prefix="events:", store=MemoryStore())  # no route registered anywhere
    publisher = BrokerPublisher(broker, EventRoutes(kv), declared=declared)
    relay = OutboxRelay(database, publisher, router=publisher)
    try:
        async with database.transaction() as session:
            event_id = await add_event(session, topic=topic, payload={"status": "paid"})
        assert await relay.run_once() == 1  # enqueued into Redis: durable, so published

        @dramatiq.actor(actor_name=f"{service}.{topic}", queue_name=service)
        def on_cashout(envelope: dict) -> None:  # the consumer starts only now
            got.append(envelope["id"])
            done.set()

        worker = dramatiq.Worker(broker, queues={service}, worker_threads=1, worker_timeout=100)
        worker.start()
        try:
            assert done.wait(10)
        finally:
            worker.stop()
        assert got == [event_id]
    finally:
        broker.flush(service)
        configure_broker(None)


async def test_runtime_delivers_a_waiting_event_once_its_consumer_starts(
        database: Database, kv: KeyValue, tmp_path) -> None:
    """Two services' runtimes on one routes KV (the real Redis where marked): the producer's
    event waits, unpublished, until the consumer's runtime starts and registers its route."""
    import asyncio

    from shared.config import ServiceSettings, load_settings
    from shared.events import EventsRuntime

    producer, consumer = f"prod{uuid.uuid4().hex[:8]}", f"cons{uuid.uuid4().hex[:8]}"
    topic = f"thing.happened.{consumer}"
    received: asyncio.Queue[Event] = asyncio.Queue()

    @event_handler(topic, consumer=consumer)
    async def on_thing(event: Event) -> None:
        await received.put(event)

    def settings(name: str) -> ServiceSettings:
        return load_settings(ServiceSettings, service_name=name, data_dir=str(tmp_path),
                             outbox_poll_interval=0.02, outbox_max_wait_seconds=0.05)

    sending = EventsRuntime(settings=settings(producer), database=database, routes_kv=kv)
    await sending.start()
    try:
        async with database.transaction() as session:
            event_id = await add_event(session, topic=topic, payload={"n": 1})
        assert sending.relay is not None
        sending.relay.wake()
        async with asyncio.timeout(10):  # a bound on a hang, not a measured time
            while (row := (await _rows(database))[event_id]).attempts < 2:
                await asyncio.sleep(0.01)  # the relay tried twice and found nobody
        assert row.published_at is None and row.last_error == NO_CONSUMER
        assert received.empty()
        receiving = EventsRuntime(settings=settings(consumer), database=database, routes_kv=kv,
                                  relay=False)
        await receiving.start()
        try:
            event = await asyncio.wait_for(received.get(), 10)
            # The relay enqueues before it commits: wait for the mark, then stop it.
            async with asyncio.timeout(10):
                while (await _rows(database))[event_id].published_at is None:
                    await asyncio.sleep(0.01)
        finally:
            await receiving.stop()
    finally:
        await sending.stop()
    assert (event.id, event.payload) == (event_id, {"n": 1})
