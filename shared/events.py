"""Transactional outbox: events are written with the business change and published after commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import dramatiq
import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select

from shared.db import Database
from shared.event_catalog import Consumer, declared_consumers
from shared.redis import KeyValue

__all__ = [
    "EVENTS_METADATA",
    "LATEST_EVENT_TABLES",
    "NO_CONSUMER",
    "BrokerPublisher",
    "DeadLetterBudget",
    "DeadLetterEvent",
    "Event",
    "EventRoutes",
    "EventsRuntime",
    "KVPublisher",
    "OutboxEvent",
    "OutboxRelay",
    "ProcessedEvent",
    "Publisher",
    "Router",
    "add_event",
    "create_event_tables",
    "downgrade_event_tables",
    "drop_event_tables",
    "event_handler",
    "handlers_for",
    "include_event_tables",
    "mark_processed",
    "upgrade_event_tables",
]

log = logging.getLogger("tributary.events")

EVENTS_METADATA = sa.MetaData()


class EventsBase(SQLModel, registry=registry(metadata=EVENTS_METADATA)):
    """Own metadata: a subgraph copies these tables into its migrations explicitly."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxEvent(EventsBase, table=True):
    __tablename__ = "outbox_events"
    __table_args__ = (sa.Index("ix_outbox_events_unpublished", "published_at", "created_at"),)

    id: str = Field(primary_key=True, max_length=32)
    topic: str = Field(max_length=200, index=True)
    key: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = Field(default_factory=_utcnow)
    published_at: datetime | None = Field(default=None)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    # Set while the event waits for a consumer: the relay looks at it again from then on.
    next_attempt_at: datetime | None = Field(default=None)


class DeadLetterEvent(EventsBase, table=True):
    """An event that found no consumer within its budget; replayable into the outbox."""

    __tablename__ = "dead_letter_events"

    id: str = Field(primary_key=True, max_length=32)  # the outbox id, kept on replay
    topic: str = Field(max_length=200, index=True)
    key: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    dead_at: datetime = Field(default_factory=_utcnow)


class ProcessedEvent(EventsBase, table=True):
    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True, max_length=200)
    event_id: str = Field(primary_key=True, max_length=32)
    processed_at: datetime = Field(default_factory=_utcnow)


@dataclass(frozen=True, slots=True)
class Event:
    """What consumers receive; `id` is stable across redeliveries (use it for idempotency)."""

    id: str
    topic: str
    key: str | None
    payload: dict[str, Any]
    created_at: str

    def envelope(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "key": self.key, "payload": self.payload,
                "created_at": self.created_at}

    @classmethod
    def from_envelope(cls, data: dict[str, Any]) -> Event:
        return cls(id=data["id"], topic=data["topic"], key=data.get("key"),
                   payload=data["payload"], created_at=data["created_at"])

    @classmethod
    def from_row(cls, row: OutboxEvent) -> Event:
        return cls(id=row.id, topic=row.topic, key=row.key, payload=row.payload,
                   created_at=row.created_at.isoformat())


async def add_event(session: AsyncSession, *, topic: str, payload: dict[str, Any],
                    key: str | None = None) -> str:
    """Record an event in the caller's transaction; it is published iff that transaction commits."""
    orjson.dumps(payload)  # fail now, in the business transaction, if it is not JSON
    event_id = uuid.uuid4().hex
    session.add(OutboxEvent(id=event_id, topic=topic, key=key, payload=payload))
    return event_id


async def mark_processed(session: AsyncSession, *, consumer: str, event_id: str) -> bool:
    """Claim `event_id` for `consumer` in the caller's transaction; False if already processed.

    Call it first inside the consumer's transaction: a duplicate delivery then does nothing,
    and a failed consumer transaction releases the claim with everything else.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ProcessedEvent.__table__).values(  # type: ignore[attr-defined]
        consumer=consumer, event_id=event_id, processed_at=_utcnow()
    ).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# --- schema helpers for subgraph migrations --------------------------------------------------


def include_event_tables(metadata: sa.MetaData) -> None:
    """Add outbox_events/processed_events to a subgraph's metadata (for autogenerate)."""
    for table in EVENTS_METADATA.tables.values():
        if table.name not in metadata.tables:
            table.to_metadata(metadata)


# What each version of the kit's tables added, so that a subgraph's old migration keeps
# creating what it created then and a later one adds the rest (`upgrade_event_tables`).
_ADDED_IN: dict[int, tuple[tuple[str, str | None], ...]] = {
    1: (("outbox_events", None), ("processed_events", None)),
    2: (("outbox_events", "next_attempt_at"), ("dead_letter_events", None)),
}
LATEST_EVENT_TABLES = max(_ADDED_IN)


def _later_columns(version: int) -> set[tuple[str, str]]:
    return {(table, column) for v, items in _ADDED_IN.items() if v > version
            for table, column in items if column is not None}


def _tables_of(version: int) -> list[sa.Table]:
    names = {table for v, items in _ADDED_IN.items() if v <= version
             for table, column in items if column is None}
    return [t for t in EVENTS_METADATA.sorted_tables if t.name in names]


def _create_table(op: Any, table: sa.Table, *, skip: set[tuple[str, str]]) -> None:
    columns = [sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
               for c in table.columns if (table.name, c.name) not in skip]
    op.create_table(table.name, *columns)
    for index in table.indexes:
        op.create_index(index.name, table.name, [c.name for c in index.columns])


def create_event_tables(op: Any, *, version: int = LATEST_EVENT_TABLES) -> None:
    """Call from a migration's upgrade(): `create_event_tables(op)` (the latest tables).

    A migration written for an older kit passes the `version` it was written for, so that
    `upgrade_event_tables(op, since=version)` in a later migration adds the rest.
    """
    skip = _later_columns(version)
    for table in _tables_of(version):
        _create_table(op, table, skip=skip)


def upgrade_event_tables(op: Any, *, since: int, to: int = LATEST_EVENT_TABLES) -> None:
    """Add the kit's columns and tables of versions `since + 1 .. to`."""
    skip = _later_columns(to)
    for version in range(since + 1, to + 1):
        for name, column in _ADDED_IN[version]:
            table = EVENTS_METADATA.tables[name]
            if column is None:
                _create_table(op, table, skip=skip)
                continue
            spec = table.columns[column]
            with op.batch_alter_table(name) as batch:
                batch.add_column(sa.Column(spec.name, spec.type, nullable=spec.nullable))


def downgrade_event_tables(op: Any, *, to: int) -> None:
    """Undo `upgrade_event_tables(op, since=to)`."""
    for version in range(LATEST_EVENT_TABLES, to, -1):
        for name, column in reversed(_ADDED_IN[version]):
            if column is None:
                op.drop_table(name)
            else:
                with op.batch_alter_table(name) as batch:
                    batch.drop_column(column)


def drop_event_tables(op: Any, *, version: int = LATEST_EVENT_TABLES) -> None:
    for table in reversed(_tables_of(version)):
        op.drop_table(table.name)


# --- publishing ------------------------------------------------------------------------------


class Publisher(Protocol):
    """Sends a batch of events on, in order; raises if any of them could not be sent."""

    async def publish(self, events: Sequence[Event]) -> None: ...


Route = tuple[str, str]  # (queue name, actor name) of one consumer


class Router(Protocol):
    """Where each topic's events must go; a topic with no route has no durable destination."""

    async def routes(self, topics: Collection[str]) -> dict[str, list[Route]]: ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class EventRoutes:
    """Which (queue, actor) pairs consume a topic, kept in the KV so every process sees them."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def register(self, topic: str, *, queue_name: str, actor_name: str) -> None:
        await self.kv.zadd(f"routes:{topic}", {f"{queue_name}|{actor_name}": 0})

    async def consumers(self, topic: str) -> list[Route]:
        members = await self.kv.zrevrange(f"routes:{topic}", 0, -1)
        return [tuple(m.split("|", 1)) for m in sorted(members)]


class BrokerPublisher:
    """Fans an event out as one dramatiq message per consumer of its topic.

    A topic's consumers are those declared in `shared.event_catalog` and those registered in
    the KV. With the embedded broker only actors declared in this process count: its queues
    are this process's, and a message for an actor it lacks would be dropped.
    """

    def __init__(self, broker: dramatiq.Broker, routes: EventRoutes, *,
                 declared: Callable[[str], Iterable[Consumer]] = declared_consumers) -> None:
        self.broker = broker
        self.kv_routes = routes
        self.declared = declared
        self._resolved: dict[str, list[Route]] = {}

    async def routes(self, topics: Collection[str]) -> dict[str, list[Route]]:
        """Each topic's routes, looked up once; the next `publish` reuses them."""
        from shared.jobs import is_embedded

        found: dict[str, list[Route]] = {}
        for topic in topics:
            routes = set(await self.kv_routes.consumers(topic))
            routes.update((c.service, c.actor_name) for c in self.declared(topic))
            if is_embedded(self.broker):
                routes = {r for r in routes if r[1] in self.broker.actors}
            found[topic] = sorted(routes)
        self._resolved = found
        return found

    async def publish(self, events: Sequence[Event]) -> None:
        resolved, self._resolved = self._resolved, {}
        missing = {e.topic for e in events} - resolved.keys()
        if missing:
            resolved.update(await self.routes(missing))
        for event in events:
            for queue_name, actor_name in resolved[event.topic]:
                self.broker.declare_queue(queue_name)
                message: dramatiq.Message[Any] = dramatiq.Message(
                    queue_name=queue_name, actor_name=actor_name, args=(event.envelope(),),
                    kwargs={}, options={})
                self.broker.enqueue(message)


class KVPublisher:
    """Also announces events on pub/sub channel `events:<topic>` (live subscriptions)."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def publish(self, events: Sequence[Event]) -> None:
        await self.kv.publish_many([(f"events:{event.topic}", orjson.dumps(event.envelope()))
                                    for event in events])


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadLetterBudget:
    """How long an event may wait for a consumer before it becomes a dead letter."""

    max_attempts: int = 100
    max_age_seconds: float = 86_400.0
    first_wait_seconds: float = 1.0
    max_wait_seconds: float = 60.0

    def wait(self, attempts: int) -> float:
        return float(min(self.max_wait_seconds,
                         self.first_wait_seconds * 2 ** min(attempts - 1, 30)))


NO_CONSUMER = "NoConsumer: no consumer is declared or registered for this topic"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class OutboxRelay:
    """Publishes committed, unpublished outbox rows in order and marks them published.

    A batch goes to each publisher at once (a few round trips, not a few per event). If that
    fails, the batch is sent again one event at a time, so that the events before the failing
    one are published and marked, and it and everything after it wait, in order, for the next
    poll. Delivery is at least once: consumers deduplicate (`mark_processed`).

    With a `router`, an event is published only when its topic has a route (a durable
    destination). One without waits, retried with backoff, and after the `budget` moves to
    `dead_letter_events`; it holds back only later events of its own topic.
    """

    def __init__(self, database: Database, publishers: Publisher | Iterable[Publisher], *,
                 router: Router | None = None, budget: DeadLetterBudget | None = None,
                 clock: Clock = _utcnow, batch_size: int = 100, poll_interval: float = 0.5,
                 on_published: Callable[[Event], None] | None = None) -> None:
        self.database = database
        self.publishers = ([publishers] if hasattr(publishers, "publish")
                           else list(publishers))
        self.router = router
        self.budget = budget or DeadLetterBudget()
        self.clock = clock
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.on_published = on_published
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Publish one batch; returns how many events were published."""
        now = self.clock()
        async with self.database.transaction() as session:
            rows = await self._due(session, now)
            if not rows:
                return 0
            rows = await self._hold_unrouted(session, rows, now)
            events = [Event.from_row(row) for row in rows]
            try:
                await self._send(events)
                sent = len(rows)
            except Exception:  # noqa: BLE001 - retried below, one event at a time
                sent = await self._send_one_by_one(rows, events)
            if sent:
                # one statement for what was sent, not one UPDATE per event
                await session.execute(
                    sa.update(OutboxEvent).where(col(OutboxEvent.id).in_([r.id for r in rows[:sent]]))
                    .values(published_at=now, attempts=col(OutboxEvent.attempts) + 1,
                            next_attempt_at=None)
                    .execution_options(synchronize_session=False))
            if self.on_published is not None:
                for event in events[:sent]:
                    self.on_published(event)
        return sent

    async def _due(self, session: Any, now: datetime) -> list[OutboxEvent]:
        query = (select(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
                 .where(sa.or_(col(OutboxEvent.next_attempt_at).is_(None),
                               col(OutboxEvent.next_attempt_at) <= now))
                 .order_by(col(OutboxEvent.created_at), col(OutboxEvent.id))
                 .limit(self.batch_size))
        if self.database.dialect == "postgresql":
            # Several replicas may relay at once; each row goes to one of them at a time.
            query = query.with_for_update(skip_locked=True)
        return list((await session.exec(query)).all())

    async def _hold_unrouted(self, session: Any, rows: list[OutboxEvent],
                             now: datetime) -> list[OutboxEvent]:
        """The rows that may be sent now; the others wait for a consumer or become dead letters.

        A topic that has routes again first releases its waiting rows (they are due at once)
        and sends nothing this poll, so that the next poll sends them before newer ones.
        """
        if self.router is None:
            return rows
        routes = await self.router.routes(sorted({r.topic for r in rows}))
        routed = {topic for topic, found in routes.items() if found}
        released: set[str] = set()
        if routed:
            result = await session.execute(
                sa.update(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
                .where(col(OutboxEvent.topic).in_(sorted(routed)))
                .where(col(OutboxEvent.next_attempt_at) > now)
                .values(next_attempt_at=None).returning(col(OutboxEvent.topic))
                .execution_options(synchronize_session=False))
            released = set(result.scalars().all())
        for row in rows:
            if row.topic not in routed:
                await self._wait_or_bury(session, row, now)
        return [r for r in rows if r.topic in routed and r.topic not in released]

    async def _wait_or_bury(self, session: Any, row: OutboxEvent, now: datetime) -> None:
        row.attempts += 1
        row.last_error = NO_CONSUMER
        age = (now - _aware(row.created_at)).total_seconds()
        if row.attempts < self.budget.max_attempts and age < self.budget.max_age_seconds:
            row.next_attempt_at = now + timedelta(seconds=self.budget.wait(row.attempts))
            return
        log.error("event %s (%s) found no consumer after %d attempts; dead-lettered",
                  row.id, row.topic, row.attempts)
        session.add(DeadLetterEvent(id=row.id, topic=row.topic, key=row.key, payload=row.payload,
                                    created_at=row.created_at, attempts=row.attempts,
                                    last_error=row.last_error, dead_at=now))
        await session.delete(row)

    async def _send(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for publisher in self.publishers:
            await publisher.publish(events)

    async def _send_one_by_one(self, rows: Sequence[OutboxEvent], events: Sequence[Event]) -> int:
        for index, (row, event) in enumerate(zip(rows, events, strict=True)):
            try:
                await self._send([event])
            except Exception as error:  # recorded on the row, retried at the next poll
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:500]
                log.warning("publishing event %s failed", row.id, exc_info=error)
                return index  # keep order: later events wait for this one
        return len(rows)

    async def run_forever(self) -> None:
        while True:
            try:
                count = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay poll failed")
                count = 0
            if count < self.batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)


# --- consuming -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handler:
    topic: str
    consumer: str
    actor: dramatiq.Actor[Any, Any]


_HANDLERS: list[Handler] = []


def event_handler(topic: str, *, consumer: str, max_retries: int = 5
                  ) -> Callable[[Callable[[Event], Awaitable[None]]], dramatiq.Actor[Any, Any]]:
    """Declare `async def handle(event: Event)` as the dramatiq actor `<consumer>.<topic>`.

    Delivery is at-least-once: make the handler idempotent with `mark_processed`.
    """

    def decorate(fn: Callable[[Event], Awaitable[None]]) -> dramatiq.Actor[Any, Any]:
        async def run(envelope: dict[str, Any]) -> None:
            await fn(Event.from_envelope(envelope))

        run.__name__ = run.__qualname__ = fn.__name__
        run.__module__ = fn.__module__
        actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
            actor_name=f"{consumer}.{topic}", queue_name=consumer, max_retries=max_retries
        )(run)
        _HANDLERS.append(Handler(topic=topic, consumer=consumer, actor=actor))
        return actor

    return decorate


def handlers_for(consumer: str) -> list[Handler]:
    return [h for h in _HANDLERS if h.consumer == consumer]


# --- wiring into an app ----------------------------------------------------------------------


class EventsRuntime:
    """One service's event plumbing, started/stopped with its app (`create_subgraph_app(events=)`).

    Registers this service's `event_handler`s as routes, runs the in-process worker when
    the broker is embedded (production runs `dramatiq subgraphs.<name>.workers` instead),
    and relays the service's outbox.
    """

    def __init__(self, *, settings: Any, database: Database, relay: bool = True,
                 routes_kv: KeyValue | None = None) -> None:
        self.settings = settings
        self.database = database
        self.relay_enabled = relay
        self.routes_kv = routes_kv
        self.relay: OutboxRelay | None = None
        self._owns_kv = routes_kv is None
        self._task: asyncio.Task[None] | None = None
        self._worker: contextlib.AbstractAsyncContextManager[Any] | None = None
        self.worker: Any = None

    async def start(self, app: Any = None) -> None:
        from shared.jobs import configure_broker, embedded_worker, is_embedded
        from shared.redis import create_kv

        broker = configure_broker(self.settings.redis_url)
        if self.routes_kv is None:
            self.routes_kv = create_kv(self.settings.redis_url, prefix="tributary:events:")
        routes = EventRoutes(self.routes_kv)
        for handler in handlers_for(self.settings.service_name):
            await routes.register(handler.topic, queue_name=handler.actor.queue_name,
                                  actor_name=handler.actor.actor_name)
        if is_embedded(broker):
            self._worker = embedded_worker(broker)  # type: ignore[arg-type]
            self.worker = await self._worker.__aenter__()
        if self.relay_enabled and await self._has_outbox():
            metrics = getattr(getattr(app, "state", None), "metrics", None)
            service = self.settings.service_name

            def count(event: Event) -> None:
                if metrics is not None:
                    metrics.events_published.labels(service, event.topic).inc()

            publisher = BrokerPublisher(broker, routes)
            budget = DeadLetterBudget(
                max_attempts=self.settings.outbox_dead_letter_attempts,
                max_age_seconds=self.settings.outbox_dead_letter_seconds,
                max_wait_seconds=self.settings.outbox_max_wait_seconds)
            self.relay = OutboxRelay(self.database, [publisher, KVPublisher(self.routes_kv)],
                                     router=publisher, budget=budget,
                                     poll_interval=self.settings.outbox_poll_interval,
                                     on_published=count)
            self._task = asyncio.create_task(self.relay.run_forever(), name="outbox-relay")

    async def _has_outbox(self) -> bool:
        def check(conn: Any) -> bool:
            return bool(sa.inspect(conn).has_table(OutboxEvent.__tablename__))

        async with self.database.engine.connect() as conn:
            found = await conn.run_sync(check)
        if not found:
            log.info("no outbox_events table; outbox relay not started")
        return found

    async def stop(self, app: Any = None) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._worker is not None:
            await self._worker.__aexit__(None, None, None)
            self._worker = None
        if self._owns_kv and self.routes_kv is not None:
            await self.routes_kv.close()
            self.routes_kv = None
