"""What a deposit does to the ledger: credit into settling, settlement, refunds and disputes.

A confirmed deposit is credited to the user's SETTLING account, not to the available balance:
it cannot be tipped, held in escrow or cashed out until its settlement hold ends and
`settle_due` moves it to AVAILABLE. A refund or dispute takes the amount back from, in order,
what of this deposit is still settling, the available balance, and, for whatever the user has
already spent, the RECEIVABLE account (below zero: the user owes it and is frozen; the next
settling deposit repays it first). Every function here runs inside the caller's write
transaction with the intent row already locked, and returns the webhook outcome.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.wallet.models import PaymentIntent, utcnow
from subgraphs.wallet.services.ledger import (
    AccountRef,
    Posting,
    SystemAccount,
    UserAccount,
    lock_balances,
    post_entry,
    system_account,
    user_subaccount,
)

__all__ = ["close_dispute", "credit", "open_dispute", "refund", "settle"]

# Stripe closes a dispute as won, lost, or (an inquiry that never became a chargeback)
# warning_closed: the money comes back in every case but "lost".
RELEASED = frozenset({"won", "warning_closed"})
REMOVED = frozenset({"lost"})


def _accounts(intent: PaymentIntent) -> dict[str, AccountRef]:
    return {
        "clearing": system_account(SystemAccount.DEPOSITS_CLEARING, intent.currency),
        **{kind.name.lower(): user_subaccount(kind, intent.user_id, intent.currency) for kind in UserAccount},
    }


async def _post(session: AsyncSession, intent: PaymentIntent, kind: str,
                lines: list[tuple[AccountRef, int]]) -> str:
    return await post_entry(
        session, kind=kind, reference=f"deposit:{intent.id}", allow_frozen=True,
        postings=[Posting(account=ref, amount=amount) for ref, amount in lines if amount],
    )


async def credit(session: AsyncSession, intent: PaymentIntent, *, settles_at: datetime,
                 immediate: bool) -> str:
    """The provider confirmed the payment: deposits clearing -> the user's settling account."""
    acc = _accounts(intent)
    await lock_balances(session, list(acc.values()))
    intent.entry_id = await _post(session, intent, "deposit", [
        (acc["clearing"], -intent.amount), (acc["settling"], intent.amount),
    ])
    intent.held, intent.settles_at = intent.amount, settles_at
    intent.status, intent.updated_at = "succeeded", utcnow()
    if immediate:  # no settlement hold configured
        await settle(session, intent)
    return "applied"


async def settle(session: AsyncSession, intent: PaymentIntent) -> None:
    """The hold ended: what is still settling becomes available, repaying any debt first."""
    acc = _accounts(intent)
    if intent.held:
        balances = await lock_balances(session, list(acc.values()))
        repay = min(intent.held, -balances[acc["receivable"]])
        await _post(session, intent, "deposit_settlement", [
            (acc["settling"], -intent.held), (acc["receivable"], repay),
            (acc["available"], intent.held - repay),
        ])
    intent.held, intent.settled_at = 0, utcnow()
    intent.updated_at = intent.settled_at


async def _take(session: AsyncSession, intent: PaymentIntent, amount: int) -> tuple[list[tuple[AccountRef, int]], int]:
    """Lines debiting `amount` from this deposit's settling part, then available, then owed."""
    acc = _accounts(intent)
    balances = await lock_balances(session, list(acc.values()))
    from_settling = min(amount, intent.held)
    from_available = min(amount - from_settling, max(balances[acc["available"]], 0))
    shortfall = amount - from_settling - from_available
    intent.held -= from_settling
    lines = [(acc["settling"], -from_settling), (acc["available"], -from_available),
             (acc["receivable"], -shortfall)]
    return lines, shortfall


async def refund(session: AsyncSession, intent: PaymentIntent, *, refunded_total: int) -> str:
    """`refunded_total` is the charge's cumulative refunded amount: take back the increase."""
    if refunded_total > intent.amount - intent.disputed:
        return "mismatch"
    delta = refunded_total - intent.refunded
    if delta <= 0:
        return "ignored"  # an older or repeated refund event: nothing more was refunded
    lines, _ = await _take(session, intent, delta)
    acc = _accounts(intent)
    await _post(session, intent, "deposit_refund", [*lines, (acc["clearing"], delta)])
    intent.refunded = refunded_total
    if intent.refunded == intent.amount:
        intent.status = "refunded"
    intent.updated_at = utcnow()
    return "applied"


async def open_dispute(session: AsyncSession, intent: PaymentIntent, *, dispute_ref: str | None,
                       amount: int) -> str:
    """Freeze the disputed amount in the user's DISPUTED account until the dispute closes."""
    if intent.dispute_ref is not None:
        return "ignored" if intent.dispute_ref == dispute_ref else "mismatch"
    if amount <= 0 or amount > intent.amount - intent.refunded:
        return "mismatch"
    lines, shortfall = await _take(session, intent, amount)
    acc = _accounts(intent)
    await _post(session, intent, "deposit_dispute", [*lines, (acc["disputed"], amount)])
    intent.dispute_ref, intent.dispute_status = dispute_ref, "open"
    intent.disputed, intent.dispute_shortfall, intent.updated_at = amount, shortfall, utcnow()
    return "applied"


async def close_dispute(session: AsyncSession, intent: PaymentIntent, *, dispute_ref: str | None,
                        outcome: str | None) -> str:
    """Won: the frozen amount comes back (its spent part cancels the debt). Lost: it leaves."""
    if intent.dispute_status != "open" or intent.dispute_ref != dispute_ref:
        return "ignored"
    if outcome not in RELEASED and outcome not in REMOVED:
        return "ignored"  # not a closing status we know: stay frozen, the event is kept
    acc = _accounts(intent)
    balances = await lock_balances(session, list(acc.values()))
    amount, shortfall = intent.disputed, intent.dispute_shortfall
    if outcome in REMOVED:
        await _post(session, intent, "deposit_chargeback", [(acc["disputed"], -amount), (acc["clearing"], amount)])
        intent.dispute_status = "lost"
    else:
        cancel = min(shortfall, -balances[acc["receivable"]])  # the debt may be repaid already
        back_to = acc["settling"] if intent.settled_at is None else acc["available"]
        await _post(session, intent, "deposit_dispute_won", [
            (acc["disputed"], -amount), (back_to, amount - shortfall), (acc["receivable"], cancel),
            (acc["available"], shortfall - cancel),
        ])
        if intent.settled_at is None:
            intent.held += amount - shortfall
        intent.disputed, intent.dispute_status = 0, "won"
    intent.dispute_shortfall, intent.updated_at = 0, utcnow()
    return "applied"
