"""Rate limits on sign-in, registration and wallet challenges, per client IP and per account."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.errors import RateLimitedError

if TYPE_CHECKING:
    from shared.redis import KeyValue

__all__ = ["Limit", "enforce_rate_limits"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Limit:
    limit: int
    window_seconds: int


async def enforce_rate_limits(
    kv: KeyValue, *, action: str, limits: dict[str, tuple[str | None, Limit]]
) -> None:
    """Count one attempt of `action` against every named bucket; RATE_LIMITED if any is exhausted.

    `limits` maps a bucket kind ("ip", "account") to the value it is keyed on and its limit;
    a None value (e.g. unknown IP) skips that bucket. Every bucket is counted even when an
    earlier one is over, so a flood from one IP also drains the account's budget.
    """
    worst: float = 0.0
    for kind, (value, limit) in limits.items():
        if value is None:
            continue
        result = await kv.rate_limit(
            f"rl:{action}:{kind}:{value.lower()[:200]}",
            limit=limit.limit,
            window_seconds=limit.window_seconds,
        )
        if not result.allowed:
            worst = max(worst, result.retry_after, 1.0)
    if worst:
        seconds = math.ceil(worst)
        raise RateLimitedError(
            f"Too many {action} attempts; retry in {seconds} seconds.", retry_after=seconds
        )
