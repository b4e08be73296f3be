"""The KV interface, same test bodies on the in-memory twin and the real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.redis import KeyValue, RateLimit, ScoreBump, create_kv
from shared.testing import redis_url


async def test_get_set_delete(kv: KeyValue) -> None:
    assert await kv.get("a") is None
    assert await kv.set("a", "1")
    assert await kv.get("a") == "1"
    assert not await kv.set("a", "2", nx=True)
    assert await kv.set("b", b"bytes")
    assert await kv.get("b") == "bytes"
    assert await kv.delete("a", "b", "missing") == 2
    assert await kv.get("a") is None


async def test_ttl_expires(kv: KeyValue) -> None:
    await kv.set("short", "x", ttl=0.05)
    await kv.set("long", "y", ttl=100)
    assert 0 < (await kv.ttl("long")) <= 100
    assert await kv.ttl("none") is None
    await asyncio.sleep(0.1)
    assert await kv.get("short") is None
    assert await kv.get("long") == "y"
    assert await kv.expire("long", 0.05)
    await asyncio.sleep(0.1)
    assert await kv.get("long") is None
    assert not await kv.expire("long", 10)


async def test_incr_with_ttl_set_once(kv: KeyValue) -> None:
    assert await kv.incr("n", ttl=100) == 1
    assert await kv.incr("n", ttl=1) == 2
    assert await kv.ttl("n") > 50  # the second call did not reset the window
    assert await kv.incr("n", amount=5) == 7


async def test_sorted_sets(kv: KeyValue) -> None:
    assert await kv.zadd("board", {"ann": 10, "bob": 5, "cy": 7}) == 3
    assert await kv.zincrby("board", 4, "bob") == 9
    assert await kv.zrevrange("board", 0, -1) == ["ann", "bob", "cy"]
    assert await kv.zrevrange("board", 0, 1, withscores=True) == [("ann", 10.0), ("bob", 9.0)]
    assert await kv.zrevrange("board", 5, 10) == []
    assert await kv.zrevrank("board", "cy") == 2
    assert await kv.zrevrank("board", "nobody") is None
    assert await kv.zscore("board", "ann") == 10.0
    assert await kv.zscore("board", "nobody") is None
    assert await kv.zcard("board") == 3
    assert await kv.zrem("board", "ann", "nobody") == 1
    assert await kv.zcard("board") == 2


async def test_guarded_score_bumps(kv: KeyValue) -> None:
    await kv.set("built:a", "1")
    await kv.zadd("board:a", {"ann": 1})
    applied = await kv.zincrby_guarded([
        ScoreBump(key="board:a", member="ann", amount=2.5, guard="built:a", ttl=0.3),
        ScoreBump(key="board:a", member="bob", amount=1, guard="built:a"),
        ScoreBump(key="board:b", member="ann", amount=7, guard="built:b", ttl=30),
    ])
    assert applied == 2
    assert await kv.zrevrange("board:a", 0, -1, withscores=True) == [("ann", 3.5), ("bob", 1.0)]
    assert await kv.zcard("board:b") == 0  # no guard: not created
    assert 0 < (await kv.ttl("board:a") or 0) <= 0.3
    assert await kv.zincrby_guarded([]) == 0
    async with kv.subscribe("tips:ann") as messages:
        bump = ScoreBump(key="board:a", member="cy", amount=1, guard="built:a")
        assert await kv.zincrby_guarded([bump], publish=("tips:ann", "tip-1")) == 1
        assert await asyncio.wait_for(anext(messages), 2) == ("tips:ann", b"tip-1")
        assert await kv.zincrby_guarded([], publish=("tips:ann", b"tip-2")) == 0
        assert await asyncio.wait_for(anext(messages), 2) == ("tips:ann", b"tip-2")
    await kv.zrem("board:a", "cy")
    await asyncio.sleep(0.35)
    assert await kv.zcard("board:a") == 0  # the ttl applied to the set


async def test_rate_limit_many_counts_each_key_in_its_window(kv: KeyValue) -> None:
    limits = [RateLimit("tip:user:u1", 2, 0.3), RateLimit("tip:ip:1.2.3.4", 3, 30)]
    rounds = [await kv.rate_limit_many(limits) for _ in range(4)]
    assert [[r.allowed for r in results] for results in rounds] == [
        [True, True], [True, True], [False, True], [False, False]]
    assert [r.remaining for r in rounds[0]] == [1, 2]
    assert 0 < rounds[2][0].retry_after <= 0.3 and rounds[1][0].retry_after == 0
    assert await kv.rate_limit_many([]) == []
    await asyncio.sleep(0.35)
    again = await kv.rate_limit_many(limits)
    assert [r.allowed for r in again] == [True, False]


async def test_publish_many_delivers_in_order(kv: KeyValue) -> None:
    async with kv.subscribe("a", "b") as messages:
        await kv.publish_many([("a", "1"), ("b", b"2"), ("a", "3")])
        await kv.publish_many([])
        received = [await asyncio.wait_for(anext(messages), 2) for _ in range(3)]
    assert received == [("a", b"1"), ("b", b"2"), ("a", b"3")]


async def test_guarded_range_reads_only_a_built_set(kv: KeyValue) -> None:
    assert await kv.zrevrange_guarded("built", "board", 0, 9) is None
    await kv.zadd("board", {"ann": 3, "bob": 7, "cy": 5})
    assert await kv.zrevrange_guarded("built", "board", 0, 9) is None  # the set alone is not enough
    await kv.set("built", "1")
    assert await kv.zrevrange_guarded("built", "board", 0, 1) == [("bob", 7.0), ("cy", 5.0)]
    assert await kv.zrevrange_guarded("built", "empty", 0, 9) == []


async def test_rate_limit_window(kv: KeyValue) -> None:
    results = [await kv.rate_limit("login:1.2.3.4", limit=3, window_seconds=0.3)
               for _ in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0, 0]
    assert results[0].retry_after == 0
    assert 0 < results[3].retry_after <= 0.3
    other = await kv.rate_limit("login:5.6.7.8", limit=3, window_seconds=0.3)
    assert other.allowed and other.remaining == 2
    await asyncio.sleep(0.35)
    assert (await kv.rate_limit("login:1.2.3.4", limit=3, window_seconds=0.3)).allowed


async def test_pubsub_same_client(kv: KeyValue) -> None:
    async with kv.subscribe("news", "other") as messages:
        assert await kv.publish("news", "hello") == 1
        await kv.publish("other", b"\x00bin")
        got = [await asyncio.wait_for(anext(messages), 5) for _ in range(2)]
    assert got == [("news", b"hello"), ("other", b"\x00bin")]
    assert await kv.publish("news", "nobody listens") == 0


async def test_prefix_isolates_keys(kv: KeyValue) -> None:
    await kv.set("k", "mine")
    backend = "redis" if hasattr(kv, "client") else "memory"
    if backend == "redis":
        other = create_kv(redis_url(), prefix=f"tributary_test_shared:{uuid.uuid4().hex}:")
    else:
        other = create_kv(None, prefix="someone-else:", store=kv.store)  # type: ignore[attr-defined]
    try:
        assert await other.get("k") is None
    finally:
        await other.close()


@pytest.mark.redis
async def test_pubsub_across_two_real_redis_clients() -> None:
    prefix = f"tributary_test_shared:{uuid.uuid4().hex}:"
    publisher = create_kv(redis_url(), prefix=prefix)
    subscriber = create_kv(redis_url(), prefix=prefix)
    try:
        async with subscriber.subscribe("feed") as messages:
            assert await publisher.publish("feed", "from another connection") == 1
            channel, data = await asyncio.wait_for(anext(messages), 5)
        assert (channel, data) == ("feed", b"from another connection")
    finally:
        await publisher.close()
        await subscriber.close()


@pytest.mark.redis
async def test_rate_limit_is_shared_between_clients() -> None:
    prefix = f"tributary_test_shared:{uuid.uuid4().hex}:"
    a, b = create_kv(redis_url(), prefix=prefix), create_kv(redis_url(), prefix=prefix)
    try:
        hits = await asyncio.gather(*[(a if i % 2 else b).rate_limit(
            "acct:1", limit=5, window_seconds=10) for i in range(8)])
        assert sum(h.allowed for h in hits) == 5
        await a.delete("acct:1")
    finally:
        await a.close()
        await b.close()


async def test_memory_store_sweeps_keys_nobody_reads_again() -> None:
    from shared.redis import MemoryStore

    store = MemoryStore(sweep_every=10)
    kv = create_kv(None, prefix="sweep:", store=store)
    for i in range(5):
        await kv.rate_limit(f"ip:{i}", limit=1, window_seconds=0.01)
    await asyncio.sleep(0.05)
    for i in range(10):
        await kv.set(f"fresh:{i}", "v", ttl=60)
    assert not any(k.startswith("sweep:ip:") for k in store.values)
    assert len(store.values) == 10


async def test_enforce_rate_limit_raises_rate_limited(kv: KeyValue) -> None:
    from shared.errors import RateLimitedError
    from shared.redis import enforce_rate_limit

    await enforce_rate_limit(kv, "signup:ip", limit=1, window_seconds=30)
    with pytest.raises(RateLimitedError) as exc:
        await enforce_rate_limit(kv, "signup:ip", limit=1, window_seconds=30)
    assert exc.value.code == "RATE_LIMITED"
    assert 0 < exc.value.extensions["retryAfter"] <= 30
