"""Failed credential checks, counted so that guessing is slow and nobody can lock another out.

Three budgets of failures, all in the KV: per client address (one client guessing across many
accounts), per (account, address) (one client guessing one account) and per account, slower
(many addresses guessing one account). An exhausted account budget refuses only addresses
that failed recently; a clean address (no recent failure at all) still gets its check, so an
attacker hammering an account from elsewhere never locks its owner out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.errors import RateLimitedError
from shared.redis import RateLimit
from subgraphs.identity.services.rate_limits import Limit

if TYPE_CHECKING:
    from shared.redis import KeyValue, RateLimitResult

__all__ = ["Attempt", "CredentialGuard", "FailureLimits"]

_MAX_KEY_PART = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class FailureLimits:
    per_address: Limit
    per_account_address: Limit | None = None
    per_account: Limit | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Attempt:
    """One credential check in progress: counted as a failure unless `succeeded()` is called."""

    kv: KeyValue
    counted: tuple[RateLimit, ...]

    async def succeeded(self) -> None:
        # Counting before the check and refunding after keeps concurrent guesses from slipping
        # past the budget. A key that expired in between comes back at -1 for one window: one
        # extra guess at most, never a permanent credit.
        for item in self.counted:
            await self.kv.incr(item.key, ttl=item.window_seconds, amount=-1)


@dataclass(frozen=True, kw_only=True, slots=True)
class CredentialGuard:
    """Budgets of failed `action` checks for one client address."""

    kv: KeyValue
    action: str
    limits: FailureLimits
    address: str

    async def start(self, account: str | None = None) -> Attempt:
        """Count one attempt; RATE_LIMITED (with retryAfter) when this client may not try now."""
        buckets = self._buckets(account)
        results = dict(zip(buckets, await self.kv.rate_limit_many(list(buckets.values())),
                           strict=True))
        # This attempt is the address's only one in the window: no failure, none in flight.
        clean = results["address"].remaining == self.limits.per_address.limit - 1
        refusing = [r for kind, r in results.items()
                    if not r.allowed and (kind != "account" or not clean)]
        if refusing:
            _refuse(self.action, refusing)
        return Attempt(kv=self.kv, counted=tuple(buckets.values()))

    def _buckets(self, account: str | None) -> dict[str, RateLimit]:
        base = f"fail:{self.action}"
        address = self.address.lower()[:_MAX_KEY_PART]
        limits = self.limits
        buckets = {"address": _bucket(f"{base}:addr:{address}", limits.per_address)}
        if account is not None:
            key = account.lower()[:_MAX_KEY_PART]
            if limits.per_account_address is not None:
                buckets["pair"] = _bucket(f"{base}:pair:{key}:{address}",
                                          limits.per_account_address)
            if limits.per_account is not None:
                buckets["account"] = _bucket(f"{base}:acct:{key}", limits.per_account)
        return buckets


def _bucket(key: str, limit: Limit) -> RateLimit:
    return RateLimit(key, limit.limit, limit.window_seconds)


def _refuse(action: str, results: list[RateLimitResult]) -> None:
    seconds = math.ceil(max(max(r.retry_after for r in results), 1.0))
    raise RateLimitedError(
        f"Too many failed {action} attempts; retry in {seconds} seconds.", retry_after=seconds
    )
