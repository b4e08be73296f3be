"""The wallet's escrow, called over its internal API: markets never holds a balance itself.

Every call's idempotency key is derived from the bounty and the action, so a retry (by the
user, or by the stale-bounty job after a crash) can only repeat the same movement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.internal import InternalClient

__all__ = ["Payout", "capture", "hold", "idempotency_key", "release"]

WALLET = "wallet"
USER_AUTHORIZATION_HEADER = "x-user-authorization"
_HOLDS = "/internal/escrow/holds"


@dataclass(frozen=True, kw_only=True, slots=True)
class Payout:
    recipient_id: str
    amount: int


def idempotency_key(bounty_id: str, action: str) -> str:
    return f"markets:bounty:{bounty_id}:{action}"


async def hold(client: InternalClient, *, authorization: str, bounty_id: str, payer_id: str,
               amount: int, currency: str) -> str:
    """Hold `amount` of the payer's money; `authorization` is the payer's own credential."""
    answer = await client.call(
        WALLET, _HOLDS,
        {"payerId": payer_id, "amountMinor": amount, "currency": currency,
         "reference": f"bounty:{bounty_id}"},
        headers={USER_AUTHORIZATION_HEADER: authorization,
                 "idempotency-key": idempotency_key(bounty_id, "hold")})
    return str(answer["id"])


async def release(client: InternalClient, *, bounty_id: str, hold_id: str) -> None:
    await client.call(WALLET, f"{_HOLDS}/{hold_id}/release", {},
                      headers={"idempotency-key": idempotency_key(bounty_id, "release")})


async def capture(client: InternalClient, *, bounty_id: str, hold_id: str,
                  payouts: Sequence[Payout], fee: int) -> None:
    """Pay each winner and the platform fee; the wallet returns any remainder to the payer."""
    body = {"captures": [{"recipientId": p.recipient_id, "amountMinor": p.amount} for p in payouts],
            "feeMinor": fee}
    await client.call(WALLET, f"{_HOLDS}/{hold_id}/capture", body,
                      headers={"idempotency-key": idempotency_key(bounty_id, "capture")})
