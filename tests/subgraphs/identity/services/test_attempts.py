"""Failure budgets of credential checks on the real Redis and on the in-memory KV."""

from __future__ import annotations

import pytest

from shared.errors import RateLimitedError
from subgraphs.identity.services.attempts import CredentialGuard, FailureLimits
from subgraphs.identity.services.rate_limits import Limit

LIMITS = FailureLimits(
    per_address=Limit(limit=5, window_seconds=60),
    per_account_address=Limit(limit=2, window_seconds=60),
    per_account=Limit(limit=3, window_seconds=600),
)


def guard(kv, address):
    return CredentialGuard(kv=kv, action="password", limits=LIMITS, address=address)


async def fail(kv, address, account="alice"):
    await guard(kv, address).start(account)  # never marked succeeded: counted as a failure


async def test_pair_budget_refuses_one_client_guessing_one_account(kv):
    await fail(kv, "10.0.0.1")
    await fail(kv, "10.0.0.1")
    with pytest.raises(RateLimitedError) as info:
        await fail(kv, "10.0.0.1")
    assert info.value.code == "RATE_LIMITED"
    assert 1 <= info.value.retry_after <= 60
    # The same client may still try another account; another client this one.
    await fail(kv, "10.0.0.1", "bob")
    await fail(kv, "10.0.0.2")


async def test_address_budget_spans_accounts(kv):
    for n in range(5):
        await fail(kv, "10.0.0.9", f"user{n}")
    with pytest.raises(RateLimitedError):
        await fail(kv, "10.0.0.9", "user9")


async def test_exhausted_account_refuses_dirty_addresses_only(kv):
    await fail(kv, "10.0.0.1")
    await fail(kv, "10.0.0.1")
    await fail(kv, "10.0.0.2")
    # A fourth failure is over the account budget of 3: addresses with failures are refused...
    with pytest.raises(RateLimitedError) as info:
        await fail(kv, "10.0.0.2")
    assert 540 < info.value.retry_after <= 600
    # ...a clean one still gets its check, and a success there is refunded.
    attempt = await guard(kv, "203.0.113.5").start("alice")
    await attempt.succeeded()
    attempt = await guard(kv, "203.0.113.5").start("alice")
    await attempt.succeeded()
    # A clean address that fails once is dirty from then on.
    await fail(kv, "198.51.100.7")
    with pytest.raises(RateLimitedError):
        await fail(kv, "198.51.100.7")


async def test_success_refunds_every_budget(kv):
    for _ in range(10):
        attempt = await guard(kv, "10.0.0.3").start("alice")
        await attempt.succeeded()
    await fail(kv, "10.0.0.3")
    await fail(kv, "10.0.0.3")
    with pytest.raises(RateLimitedError):
        await fail(kv, "10.0.0.3")


async def test_address_only_budget(kv):
    limits = FailureLimits(per_address=Limit(limit=2, window_seconds=60))
    token_guard = CredentialGuard(kv=kv, action="token", limits=limits, address="10.0.0.4")
    await token_guard.start()
    await token_guard.start()
    with pytest.raises(RateLimitedError):
        await token_guard.start()
