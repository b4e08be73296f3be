"""Reconciliation: the ledger's invariants, checked from the journal lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.wallet.models import Account, JournalLine, utcnow

__all__ = ["ReconciliationBreak", "ReconciliationReport", "reconcile"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ReconciliationBreak:
    kind: str  # currency_imbalance | cached_mismatch | unbalanced_entry | negative_balance
    currency: str
    subject: str  # the currency, account id or entry id at fault
    expected: int
    actual: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ReconciliationReport:
    checked_at: datetime
    accounts: int
    breaks: tuple[ReconciliationBreak, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


async def reconcile(*, session: AsyncSession) -> ReconciliationReport:
    """Check that every currency sums to zero, every entry balances, and cached == derived."""
    breaks: list[ReconciliationBreak] = []
    derived = sa.select(
        JournalLine.account_id, sa.func.sum(JournalLine.amount).label("derived")
    ).group_by(JournalLine.account_id).subquery()
    accounts = (
        await session.execute(
            sa.select(
                Account.id, Account.currency, Account.balance, Account.allow_negative,
                sa.func.coalesce(derived.c.derived, 0),
            ).outerjoin(derived, derived.c.account_id == Account.id)
        )
    ).all()
    totals: dict[str, int] = {}
    for account_id, currency, cached, allow_negative, from_lines in accounts:
        totals[currency] = totals.get(currency, 0) + int(from_lines)
        if int(cached) != int(from_lines):
            breaks.append(ReconciliationBreak(
                kind="cached_mismatch", currency=currency, subject=str(account_id),
                expected=int(from_lines), actual=int(cached),
            ))
        if not allow_negative and int(from_lines) < 0:
            breaks.append(ReconciliationBreak(
                kind="negative_balance", currency=currency, subject=str(account_id),
                expected=0, actual=int(from_lines),
            ))
    for currency, total in sorted(totals.items()):
        if total != 0:
            breaks.append(ReconciliationBreak(
                kind="currency_imbalance", currency=currency, subject=currency, expected=0, actual=total,
            ))
    unbalanced = await session.execute(
        sa.select(JournalLine.entry_id, sa.func.min(JournalLine.currency), sa.func.sum(JournalLine.amount))
        .group_by(JournalLine.entry_id)
        .having(sa.func.sum(JournalLine.amount) != 0)
    )
    for entry_id, currency, total in unbalanced.all():
        breaks.append(ReconciliationBreak(
            kind="unbalanced_entry", currency=currency, subject=entry_id, expected=0, actual=int(total),
        ))
    return ReconciliationReport(checked_at=utcnow(), accounts=len(accounts), breaks=tuple(breaks))
