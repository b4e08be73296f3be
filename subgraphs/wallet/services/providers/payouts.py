"""Payout rails for cashouts: the seam and a sandbox that remembers every payout it made."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["PayoutProvider", "PayoutResult", "SandboxPayouts"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PayoutResult:
    ok: bool
    ref: str | None = None
    reason: str | None = None


class PayoutProvider(Protocol):
    name: str

    async def send_payout(
        self, *, payout_id: str, user_id: str, amount: int, currency: str
    ) -> PayoutResult:
        """Idempotent by `payout_id`: asking twice pays once and returns the first result."""
        ...


@dataclass
class SandboxPayouts:
    """Pays everyone except `failing_users`; results are remembered per payout id."""

    name: str = "sandbox"
    failing_users: set[str] = field(default_factory=set)
    results: dict[str, PayoutResult] = field(default_factory=dict)
    calls: int = 0

    async def send_payout(
        self, *, payout_id: str, user_id: str, amount: int, currency: str
    ) -> PayoutResult:
        self.calls += 1
        if payout_id not in self.results:
            if user_id in self.failing_users:
                self.results[payout_id] = PayoutResult(ok=False, reason="account_closed")
            else:
                self.results[payout_id] = PayoutResult(ok=True, ref=f"po_sbx_{secrets.token_hex(8)}")
        return self.results[payout_id]
