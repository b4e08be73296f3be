"""Key-value, sorted sets, pub/sub and rate limits: real Redis, or an in-memory twin for dev."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis.asyncio as aioredis

__all__ = [
    "KeyValue",
    "MemoryKeyValue",
    "MemoryStore",
    "RateLimit",
    "RateLimitResult",
    "RedisKeyValue",
    "ScoreBump",
    "create_kv",
    "enforce_rate_limit",
]

Value = str | bytes | int | float


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    allowed: bool
    remaining: int
    retry_after: float  # seconds until the window resets; 0 when allowed


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One hit counted on `key`: allowed while the window holds at most `limit` hits."""

    key: str
    limit: int
    window_seconds: float


@dataclass(frozen=True, slots=True)
class ScoreBump:
    """Add `amount` to `member` in the sorted set `key`, only while the key `guard` exists;
    then (if `ttl` is set) make `key` expire `ttl` seconds later."""

    key: str
    member: str
    amount: float
    guard: str
    ttl: float | None = None


class KeyValue(Protocol):
    """The async interface both backends implement. Keys and channels are namespaced by prefix."""

    prefix: str

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: Value, ttl: float | None = None, *,
                  nx: bool = False) -> bool: ...
    async def delete(self, *keys: str) -> int: ...
    async def incr(self, key: str, ttl: float | None = None, *, amount: int = 1) -> int: ...
    async def expire(self, key: str, ttl: float) -> bool: ...
    async def ttl(self, key: str) -> float | None: ...
    async def zincrby(self, key: str, amount: float, member: str) -> float: ...
    async def zincrby_guarded(self, bumps: Sequence[ScoreBump], *,
                              publish: tuple[str, bytes | str] | None = None) -> int: ...
    async def zadd(self, key: str, mapping: Mapping[str, float]) -> int: ...
    async def zrem(self, key: str, *members: str) -> int: ...
    async def zrevrange(self, key: str, start: int, stop: int, *,
                        withscores: bool = False) -> list[Any]: ...
    async def zrevrange_guarded(self, guard: str, key: str, start: int,
                                stop: int) -> list[tuple[str, float]] | None: ...
    async def zrevrank(self, key: str, member: str) -> int | None: ...
    async def zscore(self, key: str, member: str) -> float | None: ...
    async def zcard(self, key: str) -> int: ...
    async def publish(self, channel: str, message: bytes | str) -> int: ...
    async def publish_many(self, messages: Sequence[tuple[str, bytes | str]]) -> None: ...
    def subscribe(self, *channels: str) -> Any: ...  # async CM -> AsyncIterator[(str, bytes)]
    async def rate_limit(self, key: str, *, limit: int,
                         window_seconds: float) -> RateLimitResult: ...
    async def rate_limit_many(self, limits: Sequence[RateLimit]) -> list[RateLimitResult]: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


async def enforce_rate_limit(kv: KeyValue, key: str, *, limit: int, window_seconds: float,
                             message: str = "Too many requests, try again later") -> None:
    """Count one hit on `key`; raise RateLimitedError (RATE_LIMITED, retryAfter) over the limit."""
    from shared.errors import RateLimitedError

    result = await kv.rate_limit(key, limit=limit, window_seconds=window_seconds)
    if not result.allowed:
        raise RateLimitedError(message, retry_after=round(result.retry_after, 3))


def create_kv(url: str | None, *, prefix: str, store: MemoryStore | None = None) -> KeyValue:
    """Real Redis for a redis:// URL, else the in-memory twin (shared process-wide by default)."""
    if url:
        # a bounded pool that waits for a free connection instead of raising: bursts of
        # concurrent commands (e.g. a tip's leaderboard bumps) queue rather than fail
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=512, timeout=10)
        return RedisKeyValue(aioredis.Redis(connection_pool=pool), prefix=prefix)
    return MemoryKeyValue(store or DEFAULT_STORE, prefix=prefix)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _encode(value: Value) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


# ---------------------------------------------------------------------------------------------
# Redis

# Fixed windows, one per key (ARGV: each key's window in ms): the first hit of a window starts
# its clock; atomically, so concurrent hits from many replicas count once each. Returns
# count1, ttl1, count2, ttl2, ...
_RATE_LIMIT_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, window) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, window); ttl = window end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""

# KEYS: guard1, set1, guard2, set2, ... and, last, a channel or "" (publish ARGV's last
# value there afterwards); ARGV: member, amount, ttl ms (0: none) per pair, then the message.
_ZINCRBY_GUARDED_LUA = """
local applied = 0
for pair = 0, (#KEYS - 1) / 2 - 1 do
  local guard, key = KEYS[pair * 2 + 1], KEYS[pair * 2 + 2]
  if redis.call('EXISTS', guard) == 1 then
    redis.call('ZINCRBY', key, ARGV[pair * 3 + 2], ARGV[pair * 3 + 1])
    local ttl = tonumber(ARGV[pair * 3 + 3])
    if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
    applied = applied + 1
  end
end
if KEYS[#KEYS] ~= '' then redis.call('PUBLISH', KEYS[#KEYS], ARGV[#ARGV]) end
return applied
"""

# KEYS: guard, sorted set; ARGV: start, stop. nil without the guard, else the range with scores.
_ZREVRANGE_GUARDED_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('ZREVRANGE', KEYS[2], ARGV[1], ARGV[2], 'WITHSCORES')
"""

_INCR_LUA = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


class RedisKeyValue:
    def __init__(self, client: aioredis.Redis, *, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._rate_limit = client.register_script(_RATE_LIMIT_LUA)
        self._incr = client.register_script(_INCR_LUA)
        self._zincrby_guarded = client.register_script(_ZINCRBY_GUARDED_LUA)
        self._zrevrange_guarded = client.register_script(_ZREVRANGE_GUARDED_LUA)

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> str | None:
        value = await self.client.get(self._k(key))
        return None if value is None else _text(value)

    async def set(self, key: str, value: Value, ttl: float | None = None, *,
                  nx: bool = False) -> bool:
        px = None if ttl is None else max(1, int(ttl * 1000))
        return bool(await self.client.set(self._k(key), _encode(value), px=px, nx=nx))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self.client.delete(*(self._k(k) for k in keys)))

    async def incr(self, key: str, ttl: float | None = None, *, amount: int = 1) -> int:
        px = 0 if ttl is None else max(1, int(ttl * 1000))
        return int(await self._incr(keys=[self._k(key)], args=[amount, px]))

    async def expire(self, key: str, ttl: float) -> bool:
        return bool(await self.client.pexpire(self._k(key), max(1, int(ttl * 1000))))

    async def ttl(self, key: str) -> float | None:
        ms = int(await self.client.pttl(self._k(key)))
        return None if ms < 0 else ms / 1000

    async def zincrby(self, key: str, amount: float, member: str) -> float:
        return float(await self.client.zincrby(self._k(key), amount, member))  # type: ignore[arg-type]

    async def zincrby_guarded(self, bumps: Sequence[ScoreBump], *,
                              publish: tuple[str, bytes | str] | None = None) -> int:
        """Apply the bumps whose guard exists, then publish `(channel, message)` if given:
        atomically and in one round trip. Returns how many bumps applied."""
        if not bumps and publish is None:
            return 0
        keys = [k for bump in bumps for k in (self._k(bump.guard), self._k(bump.key))]
        args: list[Value] = [a for bump in bumps for a in (
            bump.member, bump.amount, 0 if bump.ttl is None else max(1, int(bump.ttl * 1000)))]
        keys.append(self._k(publish[0]) if publish is not None else "")
        args.append(publish[1] if publish is not None else "")
        return int(await self._zincrby_guarded(keys=keys, args=args))

    async def zadd(self, key: str, mapping: Mapping[str, float]) -> int:
        return int(await self.client.zadd(self._k(key), dict(mapping)))  # type: ignore[arg-type]

    async def zrem(self, key: str, *members: str) -> int:
        return int(await self.client.zrem(self._k(key), *members)) if members else 0

    async def zrevrange(self, key: str, start: int, stop: int, *,
                        withscores: bool = False) -> list[Any]:
        rows = await self.client.zrevrange(self._k(key), start, stop, withscores=withscores)
        if withscores:
            return [(_text(m), float(s)) for m, s in rows]  # type: ignore[str-unpack]
        return [_text(m) for m in rows]

    async def zrevrange_guarded(self, guard: str, key: str, start: int,
                                stop: int) -> list[tuple[str, float]] | None:
        """`zrevrange(key, start, stop, withscores=True)`, or None if `guard` does not exist:
        one round trip for "is this cache built, and what is in it"."""
        flat = await self._zrevrange_guarded(keys=[self._k(guard), self._k(key)], args=[start, stop])
        if flat is None:
            return None
        return [(_text(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def zrevrank(self, key: str, member: str) -> int | None:
        rank: Any = await self.client.zrevrank(self._k(key), member)
        return None if rank is None else int(rank)

    async def zscore(self, key: str, member: str) -> float | None:
        score = await self.client.zscore(self._k(key), member)
        return None if score is None else float(score)

    async def zcard(self, key: str) -> int:
        return int(await self.client.zcard(self._k(key)))

    async def publish_many(self, messages: Sequence[tuple[str, bytes | str]]) -> None:
        """Publish each (channel, message) in order, in one round trip."""
        if not messages:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(self._k(channel), message)
            await pipe.execute()

    async def publish(self, channel: str, message: bytes | str) -> int:
        return int(await self.client.publish(self._k(channel), _encode(message)))

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[tuple[str, bytes]]]:
        pubsub = self.client.pubsub()
        try:
            await pubsub.subscribe(*(self._k(c) for c in channels))
            # Wait for every confirmation so that a publish right after entering is not lost.
            confirmed = 0
            while confirmed < len(set(channels)):
                message = await pubsub.get_message(timeout=5.0)
                if message is None:
                    raise TimeoutError("redis did not confirm the subscription")
                if message["type"] == "subscribe":
                    confirmed += 1
            yield self._messages(pubsub)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _messages(self, pubsub: Any) -> AsyncIterator[tuple[str, bytes]]:
        cut = len(self.prefix)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is not None and message["type"] == "message":
                yield _text(message["channel"])[cut:], _encode(message["data"])

    async def rate_limit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitResult:
        return (await self.rate_limit_many([RateLimit(key, limit, window_seconds)]))[0]

    async def rate_limit_many(self, limits: Sequence[RateLimit]) -> list[RateLimitResult]:
        """Count one hit on each key, in one round trip."""
        if not limits:
            return []
        counts = await self._rate_limit(
            keys=[self._k(item.key) for item in limits],
            args=[max(1, int(item.window_seconds * 1000)) for item in limits],
        )
        return [_rate_result(int(counts[2 * i]), item.limit, int(counts[2 * i + 1]) / 1000)
                for i, item in enumerate(limits)]

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def close(self) -> None:
        await self.client.aclose()


def _rate_result(count: int, limit: int, ttl: float) -> RateLimitResult:
    allowed = count <= limit
    return RateLimitResult(allowed=allowed, remaining=max(0, limit - count),
                           retry_after=0.0 if allowed else max(ttl, 0.001))


# ---------------------------------------------------------------------------------------------
# In-memory twin


@dataclass
class MemoryStore:
    """One process-wide "server": values, sorted sets, expiries and pub/sub subscribers."""

    values: dict[str, bytes] = field(default_factory=dict)
    zsets: dict[str, dict[str, float]] = field(default_factory=dict)
    expires: dict[str, float] = field(default_factory=dict)
    subscribers: dict[str, set[asyncio.Queue[tuple[str, bytes]]]] = field(default_factory=dict)
    queue_size: int = 10_000
    sweep_every: int = 1_000
    _writes: int = 0

    def wrote(self) -> None:
        # Expired keys are dropped lazily on access; keys never read again (one rate-limit
        # counter per client IP...) would pile up, so every so often sweep them all.
        self._writes += 1
        if self._writes >= self.sweep_every:
            self._writes = 0
            now = time.monotonic()
            for key in [k for k, deadline in self.expires.items() if deadline <= now]:
                self.drop(key)

    def purge(self, key: str) -> None:
        deadline = self.expires.get(key)
        if deadline is not None and deadline <= time.monotonic():
            self.drop(key)

    def drop(self, key: str) -> bool:
        self.expires.pop(key, None)
        found = self.values.pop(key, None) is not None
        return (self.zsets.pop(key, None) is not None) or found

    def exists(self, key: str) -> bool:
        self.purge(key)
        return key in self.values or key in self.zsets

    def keys(self, pattern: str) -> list[str]:
        return [k for k in [*self.values, *self.zsets] if fnmatch.fnmatchcase(k, pattern)
                and self.exists(k)]


DEFAULT_STORE = MemoryStore()


class MemoryKeyValue:
    def __init__(self, store: MemoryStore, *, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    def _k(self, key: str) -> str:
        k = self.prefix + key
        self.store.purge(k)
        return k

    def _set_ttl(self, key: str, ttl: float | None) -> None:
        self.store.wrote()
        if ttl is None:
            self.store.expires.pop(key, None)
        else:
            self.store.expires[key] = time.monotonic() + ttl

    async def get(self, key: str) -> str | None:
        value = self.store.values.get(self._k(key))
        return None if value is None else value.decode()

    async def set(self, key: str, value: Value, ttl: float | None = None, *,
                  nx: bool = False) -> bool:
        k = self._k(key)
        if nx and self.store.exists(k):
            return False
        self.store.zsets.pop(k, None)
        self.store.values[k] = _encode(value)
        self._set_ttl(k, ttl)
        return True

    async def delete(self, *keys: str) -> int:
        return sum(self.store.drop(self._k(k)) for k in keys)

    async def incr(self, key: str, ttl: float | None = None, *, amount: int = 1) -> int:
        k = self._k(key)
        current = self.store.values.get(k)
        try:
            value = (int(current) if current is not None else 0) + amount
        except ValueError:
            raise ValueError("value is not an integer or out of range") from None
        self.store.values[k] = str(value).encode()
        if ttl is not None and k not in self.store.expires:
            self._set_ttl(k, ttl)
        return value

    async def expire(self, key: str, ttl: float) -> bool:
        k = self._k(key)
        if not self.store.exists(k):
            return False
        self._set_ttl(k, ttl)
        return True

    async def ttl(self, key: str) -> float | None:
        k = self._k(key)
        deadline = self.store.expires.get(k)
        if deadline is None or not self.store.exists(k):
            return None
        return max(0.0, deadline - time.monotonic())

    def _zset(self, key: str, *, create: bool) -> dict[str, float]:
        k = self._k(key)
        zset = self.store.zsets.get(k)
        if zset is None:
            zset = {}
            if create:
                self.store.values.pop(k, None)
                self.store.zsets[k] = zset
        return zset

    async def zincrby(self, key: str, amount: float, member: str) -> float:
        zset = self._zset(key, create=True)
        zset[member] = zset.get(member, 0.0) + amount
        return zset[member]

    async def zincrby_guarded(self, bumps: Sequence[ScoreBump], *,
                              publish: tuple[str, bytes | str] | None = None) -> int:
        applied = 0
        for bump in bumps:
            if self.store.exists(self._k(bump.guard)):
                await self.zincrby(bump.key, bump.amount, bump.member)
                if bump.ttl is not None:
                    await self.expire(bump.key, bump.ttl)
                applied += 1
        if publish is not None:
            await self.publish(*publish)
        return applied

    async def zadd(self, key: str, mapping: Mapping[str, float]) -> int:
        zset = self._zset(key, create=True)
        added = sum(1 for m in mapping if m not in zset)
        zset.update({m: float(s) for m, s in mapping.items()})
        return added

    async def zrem(self, key: str, *members: str) -> int:
        zset = self._zset(key, create=False)
        removed = sum(1 for m in members if zset.pop(m, None) is not None)
        if not zset:
            self.store.zsets.pop(self.prefix + key, None)
        return removed

    def _ordered(self, key: str) -> list[tuple[str, float]]:
        # Redis orders equal scores by member, descending for ZREVRANGE.
        return sorted(self._zset(key, create=False).items(), key=lambda ms: (ms[1], ms[0]),
                      reverse=True)

    async def zrevrange(self, key: str, start: int, stop: int, *,
                        withscores: bool = False) -> list[Any]:
        rows = self._ordered(key)
        n = len(rows)
        start = max(0, start + n if start < 0 else start)
        stop = stop + n if stop < 0 else stop
        window = rows[start:stop + 1] if stop >= start else []
        return list(window) if withscores else [m for m, _ in window]

    async def zrevrange_guarded(self, guard: str, key: str, start: int,
                                stop: int) -> list[tuple[str, float]] | None:
        if not self.store.exists(self._k(guard)):
            return None
        return await self.zrevrange(key, start, stop, withscores=True)

    async def zrevrank(self, key: str, member: str) -> int | None:
        for rank, (m, _) in enumerate(self._ordered(key)):
            if m == member:
                return rank
        return None

    async def zscore(self, key: str, member: str) -> float | None:
        return self._zset(key, create=False).get(member)

    async def zcard(self, key: str) -> int:
        return len(self._zset(key, create=False))

    async def publish_many(self, messages: Sequence[tuple[str, bytes | str]]) -> None:
        for channel, message in messages:
            await self.publish(channel, message)

    async def publish(self, channel: str, message: bytes | str) -> int:
        subscribers = self.store.subscribers.get(self.prefix + channel, set())
        for queue in subscribers:
            if queue.full():
                queue.get_nowait()  # a stalled subscriber loses its oldest message, not memory
            queue.put_nowait((channel, _encode(message)))
        return len(subscribers)

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[tuple[str, bytes]]]:
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(self.store.queue_size)
        names = [self.prefix + c for c in set(channels)]
        for name in names:
            self.store.subscribers.setdefault(name, set()).add(queue)
        try:
            yield self._messages(queue)
        finally:
            for name in names:
                subscribers = self.store.subscribers.get(name)
                if subscribers is not None:
                    subscribers.discard(queue)
                    if not subscribers:
                        del self.store.subscribers[name]

    @staticmethod
    async def _messages(queue: asyncio.Queue[tuple[str, bytes]]
                        ) -> AsyncIterator[tuple[str, bytes]]:
        while True:
            yield await queue.get()

    async def rate_limit_many(self, limits: Sequence[RateLimit]) -> list[RateLimitResult]:
        return [await self.rate_limit(item.key, limit=item.limit, window_seconds=item.window_seconds)
                for item in limits]

    async def rate_limit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitResult:
        count = await self.incr(key, ttl=window_seconds)
        remaining_ttl = await self.ttl(key)
        return _rate_result(count, limit, window_seconds if remaining_ttl is None
                            else remaining_ttl)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None
