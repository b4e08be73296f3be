"""Velocity limits on money movements, per user and per client IP, and reports of abuse."""

from __future__ import annotations

import logging

from shared.db import Database
from shared.errors import RateLimitedError
from shared.redis import KeyValue, RateLimit
from subgraphs.wallet.services.outbox import TOPIC_SUSPICIOUS, emit

__all__ = ["enforce_velocity"]

log = logging.getLogger("tributary.wallet.limits")


async def enforce_velocity(
    kv: KeyValue,
    *,
    database: Database,
    action: str,
    user_id: str,
    ip: str,
    user_limit: int,
    ip_limit: int,
    window_seconds: float,
) -> None:
    """Count one `action` for the user and the IP; over a limit -> RATE_LIMITED.

    The first refusal in a window is also reported to moderation as a suspicious movement
    (one event per user and window, so a flood does not flood the outbox).
    """
    scopes = (("user", user_id, user_limit), ("ip", ip, ip_limit))
    results = await kv.rate_limit_many([
        RateLimit(f"vel:{action}:{scope}:{subject}", limit, window_seconds)
        for scope, subject, limit in scopes
    ])
    for (scope, subject, limit), result in zip(scopes, results, strict=True):
        if result.allowed:
            continue
        if await kv.set(f"vel:flagged:{action}:{scope}:{subject}", "1", ttl=window_seconds, nx=True):
            async with database.transaction() as session:
                await emit(session, topic=TOPIC_SUSPICIOUS, key=user_id, payload={
                    "reason": "VELOCITY", "action": action, "scope": scope, "userId": user_id,
                    "ip": ip, "limit": limit, "windowSeconds": window_seconds,
                })
            log.warning("velocity limit hit", extra={"action": action, "scope": scope})
        raise RateLimitedError(
            f"Too many {action} requests; try again later",
            retry_after=result.retry_after,
            extensions={"scope": scope, "limit": limit},
        )
