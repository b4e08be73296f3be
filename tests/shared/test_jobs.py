"""Jobs: the in-process broker + worker (retries, dead letters) and the real Redis broker."""

from __future__ import annotations

import asyncio
import threading
import uuid

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from shared.jobs import configure_broker, embedded_worker, is_embedded
from shared.testing import redis_url


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


async def test_async_and_sync_actors_run_in_process() -> None:
    broker = configure_broker(None)
    assert isinstance(broker, StubBroker) and is_embedded(broker)
    loop = asyncio.get_running_loop()
    results: list[str] = []
    queue = unique("q")

    @dramatiq.actor(queue_name=queue, actor_name=unique("async_job"))
    async def async_job(x: int) -> None:
        assert asyncio.get_running_loop() is loop  # the app's loop: its DB engine works here
        results.append(f"async {x}")

    @dramatiq.actor(queue_name=queue, actor_name=unique("sync_job"))
    def sync_job(x: int) -> None:
        assert threading.current_thread() is not threading.main_thread()
        results.append(f"sync {x}")

    async with embedded_worker(broker) as worker:
        async_job.send(1)
        sync_job.send(2)
        async_job.send_with_options(args=(3,), delay=50)
        await worker.join()
    assert sorted(results) == ["async 1", "async 3", "sync 2"]


async def test_failures_retry_then_dead_letter() -> None:
    broker = configure_broker(None)
    attempts = {"flaky": 0, "broken": 0}

    @dramatiq.actor(queue_name=unique("q"), actor_name=unique("flaky"), max_retries=3)
    async def flaky() -> None:
        attempts["flaky"] += 1
        if attempts["flaky"] < 3:
            raise ConnectionError("transient")

    @dramatiq.actor(queue_name=unique("q"), actor_name=unique("broken"), max_retries=1)
    async def broken() -> None:
        attempts["broken"] += 1
        raise ValueError("permanent")

    async with embedded_worker(broker) as worker:
        flaky.send()
        broken.send()
        await worker.join()
    assert attempts == {"flaky": 3, "broken": 2}
    assert [m.actor_name for m in worker.dead_letters] == [broken.actor_name]


def test_actors_declared_before_configure_follow_the_broker() -> None:
    stub = configure_broker(None)

    @dramatiq.actor(queue_name=unique("q"), actor_name=unique("early"))
    def early() -> None:
        return None

    real = configure_broker(redis_url())
    try:
        assert isinstance(real, RedisBroker)
        assert early.broker is real and early.actor_name in real.actors
    finally:
        configure_broker(None)
    assert early.broker is stub


@pytest.mark.redis
def test_redis_broker_with_dramatiq_worker() -> None:
    broker = configure_broker(redis_url())
    done = threading.Event()
    queue = unique("tributary_test_shared")

    @dramatiq.actor(queue_name=queue, actor_name=unique("remote"))
    def remote(value: str) -> None:
        if value == "ping":
            done.set()

    worker = dramatiq.Worker(broker, queues={queue}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        remote.send("ping")
        assert done.wait(10)
    finally:
        worker.stop()
        broker.flush(queue)
        configure_broker(None)
