"""Per-client rate limits at the door: fixed windows counted in Redis (shared by every replica),
in this process's memory while Redis cannot answer, or when none is configured."""

from __future__ import annotations

import logging
import math

from redis.exceptions import RedisError

from shared.redis import KeyValue, MemoryStore, RateLimitResult, create_kv

from ..config import GatewaySettings
from ..executor.authorize import Requester

__all__ = ["RateLimiter", "client_key"]

logger = logging.getLogger("tributary.gateway")


def client_key(requester: Requester | None, address: str | None) -> str:
    """Whom a hit counts against: the API key, else the signed-in user, else the client address."""
    caller = requester.caller if requester is not None else None
    if caller is not None and caller.api_key_id:
        return f"key:{caller.api_key_id}"
    if caller is not None and caller.user_id:
        return f"user:{caller.user_id}"
    return f"addr:{address or 'unknown'}"


class RateLimiter:
    def __init__(self, *, limit: int, window_seconds: float, redis_url: str | None,
                 prefix: str = "tributary:gateway:rate:") -> None:
        assert limit > 0 and window_seconds > 0, "a rate limit needs a positive limit and window"
        self.limit = limit
        self.window_seconds = window_seconds
        self.shared: KeyValue | None = create_kv(redis_url, prefix=prefix) if redis_url else None
        self.local: KeyValue = create_kv(None, prefix=prefix, store=MemoryStore())
        self._degraded = False

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RateLimiter | None:
        if not settings.rate_limit_per_client:
            return None
        return cls(limit=settings.rate_limit_per_client,
                   window_seconds=settings.rate_limit_window_seconds, redis_url=settings.redis_url)

    async def hit(self, key: str) -> RateLimitResult:
        if self.shared is not None:
            try:
                result = await self.shared.rate_limit(key, limit=self.limit,
                                                      window_seconds=self.window_seconds)
            except (RedisError, OSError) as error:
                if not self._degraded:
                    logger.warning("rate limits: Redis unavailable, counting in memory: %r", error)
                    self._degraded = True
            else:
                self._degraded = False
                return result
        return await self.local.rate_limit(key, limit=self.limit, window_seconds=self.window_seconds)

    @staticmethod
    def retry_after_header(result: RateLimitResult) -> str:
        return str(max(1, math.ceil(result.retry_after)))

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()
