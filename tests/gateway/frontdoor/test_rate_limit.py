"""Per-client rate limits: 429 RATE_LIMITED with Retry-After past the limit (before any fetch),
counted per user, API key or client address, shared through Redis between replicas, and in
memory while Redis cannot answer."""

from __future__ import annotations

import asyncio
import socket
import uuid

from tests.gateway.frontdoor._guarded import guarded_stack, token

QUERY = "{ me { name } }"
REDIS = "redis://127.0.0.1:6379/0"


async def test_over_the_limit_gets_429_and_recovers_after_retry_after() -> None:
    async with guarded_stack(rate_limit_per_client=2, rate_limit_window_seconds=1) as stack:
        assert [(await stack.post(QUERY)).status_code for _ in range(2)] == [200, 200]
        refused = await stack.post(QUERY)
        assert refused.status_code == 429
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 0 < error["extensions"]["retryAfter"] <= 1
        assert refused.headers["retry-after"] == "1"
        assert len(stack.calls("accounts")) == 2  # the refused request never reached a subgraph
        # a signed-in user is another client than the anonymous address
        assert (await stack.post(QUERY, bearer=token(sub="someone-else"))).status_code == 200
        await asyncio.sleep(int(refused.headers["retry-after"]))
        assert (await stack.post(QUERY)).status_code == 200


async def test_replicas_share_the_count_through_redis() -> None:
    user = token(sub=f"rate-{uuid.uuid4().hex}")  # a fresh client: the Redis is shared by runs
    settings = {"rate_limit_per_client": 3, "rate_limit_window_seconds": 30, "redis_url": REDIS}
    async with guarded_stack(**settings) as one, guarded_stack(**settings) as two:
        statuses = [(await one.post(QUERY, bearer=user)).status_code,
                    (await two.post(QUERY, bearer=user)).status_code,
                    (await one.post(QUERY, bearer=user)).status_code,
                    (await two.post(QUERY, bearer=user)).status_code]
        assert statuses == [200, 200, 200, 429]


async def test_without_redis_it_counts_in_memory() -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = {"rate_limit_per_client": 1, "rate_limit_window_seconds": 30,
                "redis_url": f"redis://127.0.0.1:{port}/0"}
    async with guarded_stack(**settings) as stack:
        assert (await stack.post(QUERY)).status_code == 200
        refused = await stack.post(QUERY)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


async def test_no_limit_by_default() -> None:
    async with guarded_stack() as stack:
        responses = await asyncio.gather(*(stack.post(QUERY) for _ in range(20)))
        assert {r.status_code for r in responses} == {200}
