"""Per-user write rate limits (fixed windows in the KV, shared by every replica)."""

from __future__ import annotations

from shared.errors import RateLimitedError
from shared.redis import KeyValue

__all__ = ["check_rate"]


async def check_rate(kv: KeyValue, *, action: str, user_id: str, limit: int, window_seconds: float) -> None:
    """Count one `action` by `user_id`; RATE_LIMITED (with retryAfter) past `limit` per window.
    A limit of 0 disables the check."""
    if limit <= 0:
        return
    result = await kv.rate_limit(f"rate:{action}:{user_id}", limit=limit, window_seconds=window_seconds)
    if not result.allowed:
        raise RateLimitedError(
            f"Too many {action} requests; retry in {result.retry_after:.1f}s", retry_after=result.retry_after
        )
