"""Factories shared by the wallet tests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.wallet.models import JournalEntry, JournalLine
from subgraphs.wallet.services.ledger import (
    Posting,
    SystemAccount,
    post_entry,
    system_account,
    user_account,
    write_transaction,
)
from subgraphs.wallet.services.reconcile import reconcile


async def fund(db, user_id: str, amount: int, currency: str = "USD") -> str:  # type: ignore[no-untyped-def]
    """Credit a user as a deposit would (deposits clearing -> user)."""
    async with db.session() as session, write_transaction(session):
        entry = await post_entry(
            session,
            kind="deposit",
            postings=[
                Posting(account=system_account(SystemAccount.DEPOSITS_CLEARING, currency), amount=-amount),
                Posting(account=user_account(user_id, currency), amount=amount),
            ],
        )
        await session.commit()
        return entry


async def count_entries(db) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(JournalEntry))).scalar_one())


async def count_lines(db) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(JournalLine))).scalar_one())


async def assert_balanced(db) -> None:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        report = await reconcile(session=session)
    assert report.ok, report.breaks


async def user_balance(session: AsyncSession, user_id: str, currency: str = "USD") -> int:
    from subgraphs.wallet.services.ledger import balance_of

    return await balance_of(session, user_account(user_id, currency))
