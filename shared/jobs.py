"""Background jobs with dramatiq: Redis broker in production, in-process broker + worker in dev."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import queue
import time
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis
from dramatiq.errors import ActorNotFound
from dramatiq.message import Message
from dramatiq.middleware import AsyncIO, Middleware

__all__ = ["EmbeddedWorker", "configure_broker", "embedded_worker", "is_embedded"]

log = logging.getLogger("tributary.jobs")

_brokers: dict[str | None, dramatiq.Broker] = {}
_DEFAULT_MAX_RETRIES = 5
_MIN_BACKOFF = 0.1
_MAX_BACKOFF = 10.0


class _Wakeup(Middleware):
    """Tells embedded workers (on any event loop) that a message was enqueued."""

    def __init__(self) -> None:
        self.listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def after_enqueue(self, broker: dramatiq.Broker, message: Message[Any],
                      delay: int | None) -> None:
        for loop, event in list(self.listeners):
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


def configure_broker(redis_url: str | None) -> dramatiq.Broker:
    """The process-wide broker: RedisBroker for a URL, else an in-process StubBroker.

    Actors already declared on the previous global broker (workers modules imported
    earlier) move to the new one, so import order does not matter.
    """
    broker = _brokers.get(redis_url)
    if broker is None:
        if redis_url:
            broker = RedisBroker(url=redis_url)  # type: ignore[no-untyped-call]
            broker.add_middleware(AsyncIO())
        else:
            broker = StubBroker()
            broker.emit_after("process_boot")
            broker.add_middleware(_Wakeup())
        _brokers[redis_url] = broker
    previous = dramatiq.broker.global_broker
    if previous is not None and previous is not broker:
        for actor in list(previous.actors.values()):
            actor.broker = broker
            broker.declare_actor(actor)
    dramatiq.set_broker(broker)
    return broker


def is_embedded(broker: dramatiq.Broker) -> bool:
    return isinstance(broker, StubBroker)


def _wakeup(broker: dramatiq.Broker) -> _Wakeup | None:
    for middleware in broker.middleware:
        if isinstance(middleware, _Wakeup):
            return middleware
    return None


class EmbeddedWorker:
    """Runs StubBroker messages on the current event loop.

    Async actors are awaited on this loop (so they can use the app's database engine);
    sync actors run in a thread. Failures retry with exponential backoff, then are logged
    as dead letters.
    """

    def __init__(self, broker: StubBroker, *, concurrency: int = 8) -> None:
        self.broker = broker
        self.concurrency = concurrency
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._scheduled: set[asyncio.TimerHandle] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.processed = 0
        self.dead_letters: list[Message[Any]] = []

    def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        wakeup = _wakeup(self.broker)
        if wakeup is not None:
            wakeup.listeners.add((self._loop, self._event))
        self._task = asyncio.create_task(self._run(), name="tributary-embedded-worker")

    async def stop(self) -> None:
        """Stop taking messages and let the running ones finish."""
        if self._task is None:
            return
        wakeup = _wakeup(self.broker)
        if wakeup is not None and self._loop is not None:
            wakeup.listeners.discard((self._loop, self._event))
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        for handle in self._scheduled:
            handle.cancel()
        self._scheduled.clear()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def join(self, timeout: float = 10.0) -> None:
        """Wait until every queue is empty and nothing runs or waits for a retry (tests)."""
        deadline = time.monotonic() + timeout
        while self._pending():
            if time.monotonic() > deadline:
                raise TimeoutError("embedded worker did not drain in time")
            await asyncio.sleep(0.01)

    def _pending(self) -> bool:
        return bool(self._inflight or self._scheduled
                    or any(q.qsize() for q in self.broker.queues.values()))

    async def _run(self) -> None:
        semaphore = asyncio.Semaphore(self.concurrency)
        while True:
            self._event.clear()
            took = False
            for name in list(self.broker.queues):
                while len(self._inflight) < self.concurrency:
                    try:
                        data = self.broker.queues[name].get_nowait()
                    except queue.Empty:
                        break
                    self.broker.queues[name].task_done()
                    took = True
                    self._dispatch(Message.decode(data), name, semaphore)
            if not took:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), 0.5)
            else:
                await asyncio.sleep(0)

    def _dispatch(self, message: Message[Any], queue_name: str,
                  semaphore: asyncio.Semaphore) -> None:
        if queue_name in self.broker.delay_queues:
            eta = message.options.get("eta", 0)
            delay = max(0.0, (eta - current_millis()) / 1000)
            # Delay queues are "<queue>.DQ" (dramatiq.common.dq_name).
            original = message.copy(queue_name=queue_name.removesuffix(".DQ"))
            self._later(delay, original)
            return
        task = asyncio.create_task(self._process(message, semaphore))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _later(self, delay: float, message: Message[Any]) -> None:
        assert self._loop is not None
        handle: asyncio.TimerHandle

        def requeue() -> None:
            self._scheduled.discard(handle)
            self.broker.queues[message.queue_name].put(message.encode())
            self._event.set()

        handle = self._loop.call_later(delay, requeue)
        self._scheduled.add(handle)

    async def _process(self, message: Message[Any], semaphore: asyncio.Semaphore) -> None:
        async with semaphore:
            try:
                actor = self.broker.get_actor(message.actor_name)
            except ActorNotFound:
                log.error("no actor %s for message %s", message.actor_name, message.message_id)
                self.dead_letters.append(message)
                return
            fn = getattr(actor.fn, "__wrapped__", actor.fn)
            try:
                if inspect.iscoroutinefunction(fn):
                    await fn(*message.args, **message.kwargs)
                else:
                    await asyncio.to_thread(actor.fn, *message.args, **message.kwargs)
                self.processed += 1
            except Exception as error:  # noqa: BLE001 - any job failure is retried
                self._retry(actor, message, error)

    def _retry(self, actor: Any, message: Message[Any], error: Exception) -> None:
        retries = int(message.options.get("retries", 0))
        limit = int(actor.options.get("max_retries", _DEFAULT_MAX_RETRIES))
        if retries >= limit:
            log.error("job %s failed %d times; dead-lettered", message.actor_name,
                      retries + 1, exc_info=error)
            self.dead_letters.append(message)
            return
        backoff = min(_MAX_BACKOFF, _MIN_BACKOFF * 2 ** retries)
        log.warning("job %s failed; retry %d in %.2fs", message.actor_name, retries + 1,
                    backoff, exc_info=error)
        self._later(backoff, message.copy(options={"retries": retries + 1}))


_workers: dict[tuple[int, int], tuple[EmbeddedWorker, int]] = {}


@contextlib.asynccontextmanager
async def embedded_worker(broker: StubBroker):  # type: ignore[no-untyped-def]
    """One shared worker per (broker, loop), reference-counted across apps in one process."""
    key = (id(broker), id(asyncio.get_running_loop()))
    worker, users = _workers.get(key, (None, 0))
    if worker is None:
        worker = EmbeddedWorker(broker)
        worker.start()
    _workers[key] = (worker, users + 1)
    try:
        yield worker
    finally:
        worker, users = _workers[key]
        if users == 1:
            del _workers[key]
            await worker.stop()
        else:
            _workers[key] = (worker, users - 1)

