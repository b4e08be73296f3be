"""Cashouts: requested -> processing -> paid | failed -> reversed, each step its own transaction.

Requesting moves the funds into cashout clearing (held). Every later step re-reads the row under
a lock and only moves forward from the state it expects, so a worker killed anywhere and run
again finishes the job: the payout rail is idempotent by cashout id, and the ledger entries of a
step commit together with the state change that records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.wallet.models import Cashout, utcnow
from subgraphs.wallet.services.idempotency import run_idempotent, validate_key
from subgraphs.wallet.services.ledger import (
    Posting,
    SystemAccount,
    dialect_of,
    new_id,
    post_entry,
    system_account,
    user_account,
    write_transaction,
)
from subgraphs.wallet.services.money import get_currency, parse_amount
from subgraphs.wallet.services.outbox import TOPIC_CASHOUT, emit
from subgraphs.wallet.services.providers.payouts import PayoutProvider

__all__ = [
    "FINAL_STATES",
    "CashoutView",
    "get_cashout",
    "list_cashouts",
    "mark_processing",
    "pending_cashouts",
    "process_cashout",
    "request_cashout",
    "reverse_failed",
    "settle",
]

FINAL_STATES = frozenset({"paid", "reversed"})


@dataclass(frozen=True, kw_only=True, slots=True)
class CashoutView:
    id: str
    user_id: str
    currency: str
    amount: int
    status: str
    payout_ref: str | None
    failure_reason: str | None
    attempts: int


def _view(row: Cashout) -> CashoutView:
    return CashoutView(
        id=row.id, user_id=row.user_id, currency=row.currency, amount=row.amount, status=row.status,
        payout_ref=row.payout_ref, failure_reason=row.failure_reason, attempts=row.attempts,
    )


async def request_cashout(
    *,
    session: AsyncSession,
    user_id: str,
    amount: str,
    currency: str,
    idempotency_key: str | None,
) -> tuple[CashoutView, bool]:
    """Hold the funds and create the cashout; returns (cashout, replayed). Enqueue after this."""
    validate_key(idempotency_key)
    cur = get_currency(currency)
    minor = parse_amount(amount, cur)

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        cashout_id = new_id()
        entry = await post_entry(tx, kind="cashout_hold", reference=f"cashout:{cashout_id}", postings=[
            Posting(account=user_account(user_id, cur.code), amount=-minor),
            Posting(account=system_account(SystemAccount.CASHOUT_CLEARING, cur.code), amount=minor),
        ])
        tx.add(Cashout(id=cashout_id, user_id=user_id, currency=cur.code, amount=minor,
                       status="requested", hold_entry_id=entry))
        await emit(tx, topic=TOPIC_CASHOUT, key=cashout_id, payload={
            "cashoutId": cashout_id, "userId": user_id, "status": "requested",
            "currency": cur.code, "amountMinor": minor,
        })
        return {"cashoutId": cashout_id}

    outcome = await run_idempotent(
        session, principal=f"user:{user_id}", key=idempotency_key, operation="requestCashout",
        request={"amount": minor, "currency": cur.code}, perform=perform,
    )
    cashout = await get_cashout(session=session, cashout_id=outcome.result["cashoutId"])
    assert cashout is not None
    return cashout, outcome.replayed


async def get_cashout(*, session: AsyncSession, cashout_id: str) -> CashoutView | None:
    row = (await session.execute(
        sa.select(Cashout).where(Cashout.id == cashout_id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()
    return _view(row) if row is not None else None


async def _locked(session: AsyncSession, cashout_id: str) -> Cashout | None:
    query = sa.select(Cashout).where(Cashout.id == cashout_id).execution_options(populate_existing=True)  # type: ignore[arg-type]
    if dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def _transition(session: AsyncSession, row: Cashout, status: str) -> None:
    row.status, row.updated_at = status, utcnow()
    await emit(session, topic=TOPIC_CASHOUT, key=row.id, payload={
        "cashoutId": row.id, "userId": row.user_id, "status": status,
        "currency": row.currency, "amountMinor": row.amount,
    })


async def mark_processing(*, session: AsyncSession, cashout_id: str) -> str | None:
    """requested -> processing (commits). Returns the state found/left, None if unknown."""
    async with write_transaction(session):
        row = await _locked(session, cashout_id)
        if row is None:
            return None
        if row.status == "requested":
            row.attempts += 1
            await _transition(session, row, "processing")
        status = row.status
        await session.commit()
        return status


async def settle(*, session: AsyncSession, cashout_id: str, ok: bool, ref: str | None,
                 reason: str | None) -> str | None:
    """processing -> paid (funds leave the platform) or -> failed (still held), commits."""
    async with write_transaction(session):
        row = await _locked(session, cashout_id)
        if row is None:
            return None
        if row.status == "processing":
            if ok:
                row.settle_entry_id = await post_entry(
                    session, kind="cashout_paid", reference=f"cashout:{row.id}", postings=[
                        Posting(account=system_account(SystemAccount.CASHOUT_CLEARING, row.currency), amount=-row.amount),
                        Posting(account=system_account(SystemAccount.CASHOUTS_PAID, row.currency), amount=row.amount),
                    ])
                row.payout_ref = ref
                await _transition(session, row, "paid")
            else:
                row.failure_reason = (reason or "payout failed")[:256]
                await _transition(session, row, "failed")
        status = row.status
        await session.commit()
        return status


async def reverse_failed(*, session: AsyncSession, cashout_id: str) -> str | None:
    """failed -> reversed: the held funds go back to the user (commits)."""
    async with write_transaction(session):
        row = await _locked(session, cashout_id)
        if row is None:
            return None
        if row.status == "failed":
            row.settle_entry_id = await post_entry(
                session, kind="cashout_reversal", reference=f"cashout:{row.id}", postings=[
                    Posting(account=system_account(SystemAccount.CASHOUT_CLEARING, row.currency), amount=-row.amount),
                    Posting(account=user_account(row.user_id, row.currency), amount=row.amount),
                ])
            await _transition(session, row, "reversed")
        status = row.status
        await session.commit()
        return status


async def process_cashout(*, session: AsyncSession, payouts: PayoutProvider, cashout_id: str) -> str | None:
    """Drive one cashout to a final state from wherever it stands; safe to run again after a crash."""
    status = await mark_processing(session=session, cashout_id=cashout_id)
    if status == "processing":
        row = await get_cashout(session=session, cashout_id=cashout_id)
        assert row is not None
        await session.rollback()  # no transaction stays open across the network call
        result = await payouts.send_payout(
            payout_id=row.id, user_id=row.user_id, amount=row.amount, currency=row.currency
        )
        status = await settle(session=session, cashout_id=cashout_id, ok=result.ok, ref=result.ref,
                              reason=result.reason)
    if status == "failed":
        status = await reverse_failed(session=session, cashout_id=cashout_id)
    return status


async def list_cashouts(*, session: AsyncSession, user_id: str, first: int = 20) -> list[CashoutView]:
    rows = await session.execute(
        sa.select(Cashout).where(Cashout.user_id == user_id)  # type: ignore[arg-type]
        .order_by(Cashout.created_at.desc()).limit(max(1, min(first, 100)))  # type: ignore[attr-defined]
    )
    return [_view(row) for row in rows.scalars()]


async def pending_cashouts(*, session: AsyncSession, limit: int = 100) -> list[str]:
    """Cashouts not yet final (for the sweeper that re-enqueues work lost with a worker)."""
    rows = await session.execute(
        sa.select(Cashout.id).where(Cashout.status.in_(["requested", "processing", "failed"]))  # type: ignore[attr-defined]
        .order_by(Cashout.created_at).limit(limit)
    )
    return list(rows.scalars())
