"""Factories shared by the wallet tests."""

from __future__ import annotations

import sqlite3

import asyncpg
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


# Tables whose rows `database_state` may look at (names cannot be bound parameters).
_STATE_TABLES = frozenset({"wallet_payment_intents", "wallet_cashouts"})


async def database_state(db, table: str, row_id: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What another client of the database sees now: the row's status, open transactions, lock.

    Called by a provider stand-in while the wallet waits on it: a transaction left open across
    the call shows as `open_transactions` (PostgreSQL: any session idle in a transaction;
    SQLite: a writer holding the database) or as `row_locked`.
    """
    assert table in _STATE_TABLES, table
    url = db.engine.url
    if db.dialect == "sqlite":
        connection = sqlite3.connect(url.database, timeout=0)
        try:
            row = connection.execute(f"SELECT status FROM {table} WHERE id = ?", (row_id,)).fetchone()
            try:  # fails at once if any writer holds the database
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                open_writers = 0
            except sqlite3.OperationalError:
                open_writers = 1
        finally:
            connection.close()
        return {"status": row[0] if row else None, "open_transactions": open_writers, "row_locked": False}
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        status = await connection.fetchval(f"SELECT status FROM {table} WHERE id = $1", row_id)
        open_transactions = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
        )
        try:
            async with connection.transaction():
                await connection.execute(f"SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE NOWAIT", row_id)
            row_locked = False
        except asyncpg.LockNotAvailableError:
            row_locked = True
    finally:
        await connection.close()
    return {"status": status, "open_transactions": open_transactions, "row_locked": row_locked}
