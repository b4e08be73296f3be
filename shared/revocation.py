"""Access tokens revoked before they expire: a per-user "revoked before" time every verifier reads.

Identity writes, when a user logs out, changes password or roles, or is suspended, the time (µs)
before which that user's access tokens no longer count; every TokenVerifier refuses a token
issued earlier. The time lives in the KV under a namespace shared by all services (Redis in
production; the in-memory twin reaches only the verifiers of one process), kept as long as a
token could live, and each verifier caches what it read for at most `cache_seconds`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from shared.errors import ServiceUnavailableError
from shared.redis import MemoryKeyValue, RedisKeyValue

if TYPE_CHECKING:
    from shared.redis import KeyValue

__all__ = ["NAMESPACE", "TokenRevocations", "now_us", "revocation_kv"]

# Outside every service's own prefix: identity writes here, every verifier reads.
NAMESPACE = "tributary:auth:"


def now_us() -> int:
    # Microseconds: a token issued right after a revocation (a sign-in after a password
    # change) is told apart from the ones it revoked.
    return time.time_ns() // 1_000


def revocation_kv(kv: KeyValue) -> KeyValue:
    """The shared revocation namespace on the same server (or in-memory store) as `kv`."""
    if isinstance(kv, RedisKeyValue):
        return RedisKeyValue(kv.client, prefix=NAMESPACE)
    if isinstance(kv, MemoryKeyValue):
        return MemoryKeyValue(kv.store, prefix=NAMESPACE)
    raise TypeError(f"no revocation namespace for {type(kv).__name__}")


def _key(user_id: str) -> str:
    return f"revoked-before:{user_id}"


class TokenRevocations:
    """Reads (every verifier) and writes (identity) the per-user revocation times."""

    def __init__(self, kv: KeyValue, *, cache_seconds: float = 1.0,
                 cache_size: int = 100_000) -> None:
        assert 0 <= cache_seconds <= 5, "revocations must reach verifiers within seconds"
        self.kv = kv
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.reads = 0

    async def is_revoked(self, user_id: str, *, issued_us: int) -> bool:
        """True when the user's tokens were revoked at or after `issued_us`."""
        return issued_us <= await self._revoked_before(user_id)

    async def revoke(self, user_id: str, *, retain_seconds: float) -> int:
        """Revoke every access token of `user_id` issued until now; kept `retain_seconds`
        (at least the longest a token lives, leeway included). Returns the time written."""
        key = _key(user_id)
        stored = await self.kv.get(key)
        # Never move the time back (another identity replica's clock may run ahead).
        revoked = max(now_us(), int(stored) if stored else 0)
        await self.kv.set(key, revoked, ttl=retain_seconds)
        self._remember(user_id, revoked)
        return revoked

    async def _revoked_before(self, user_id: str) -> int:
        cached = self._cache.get(user_id)
        if cached is not None and time.monotonic() - cached[1] < self.cache_seconds:
            return cached[0]
        try:
            stored = await self.kv.get(_key(user_id))
        except (RedisError, OSError) as error:
            # Fail closed: a token that may be revoked is not accepted on trust.
            raise ServiceUnavailableError(
                f"Cannot check token revocation now ({type(error).__name__}); retry."
            ) from None
        self.reads += 1
        revoked = int(stored) if stored else 0
        self._remember(user_id, revoked)
        return revoked

    def _remember(self, user_id: str, revoked: int) -> None:
        self._cache[user_id] = (revoked, time.monotonic())
        self._cache.move_to_end(user_id)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
