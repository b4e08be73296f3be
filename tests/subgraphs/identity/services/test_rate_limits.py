"""Rate limits on the real Redis and on the in-memory fallback."""

from __future__ import annotations

import pytest

from shared.errors import RateLimitedError
from subgraphs.identity.services.rate_limits import Limit, enforce_rate_limits

PER_IP = Limit(limit=3, window_seconds=60)
PER_ACCOUNT = Limit(limit=2, window_seconds=30)


async def attempt(kv, ip, account):
    await enforce_rate_limits(kv, action="login", limits={"ip": (ip, PER_IP), "account": (account, PER_ACCOUNT)})


async def test_per_account_limit_with_retry_after(kv):
    await attempt(kv, "10.0.0.1", "alice")
    await attempt(kv, "10.0.0.2", "ALICE")  # accounts are case-insensitive
    with pytest.raises(RateLimitedError) as info:
        await attempt(kv, "10.0.0.3", "alice")
    assert info.value.code == "RATE_LIMITED"
    assert 1 <= info.value.retry_after <= 30
    assert info.value.graphql_extensions() == {"code": "RATE_LIMITED", "retryAfter": info.value.retry_after}
    await attempt(kv, "10.0.0.4", "bob")


async def test_per_ip_limit_spans_accounts(kv):
    for account in ("a1", "a2", "a3"):
        await attempt(kv, "10.0.0.9", account)
    with pytest.raises(RateLimitedError) as info:
        await attempt(kv, "10.0.0.9", "a4")
    assert 30 < info.value.retry_after <= 60
    await attempt(kv, "10.0.0.10", "a5")


async def test_unknown_bucket_value_is_skipped(kv):
    for _ in range(5):
        await enforce_rate_limits(kv, action="register", limits={"ip": (None, PER_IP)})
