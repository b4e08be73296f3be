"""The ledger: balanced entries, overdraft refusal, idempotency keys, reconciliation."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.errors import BadUserInputError, ConflictError
from subgraphs.wallet.models import Account, JournalLine
from subgraphs.wallet.services.idempotency import run_idempotent
from subgraphs.wallet.services.ledger import (
    InsufficientFundsError,
    Posting,
    SystemAccount,
    balances_of_user,
    post_entry,
    system_account,
    user_account,
    write_transaction,
)
from subgraphs.wallet.services.reconcile import reconcile
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries, fund, user_balance


def _transfer(sender: str, recipient: str, amount: int, currency: str = "USD") -> list[Posting]:
    return [
        Posting(account=user_account(sender, currency), amount=-amount),
        Posting(account=user_account(recipient, currency), amount=amount),
    ]


async def test_entries_move_balances_and_reconcile(db) -> None:
    await fund(db, "alice", 1_000)
    async with db.session() as session, write_transaction(session):
        await post_entry(session, kind="transfer", postings=_transfer("alice", "bob", 300))
        await session.commit()
    async with db.session() as session:
        assert await balances_of_user(session, "alice") == {"USD": 700}
        assert await balances_of_user(session, "bob") == {"USD": 300}
        report = await reconcile(session=session)
    assert report.ok and report.accounts == 3
    assert await count_entries(db) == 2


async def test_unbalanced_or_mixed_entries_are_refused(db) -> None:
    async with db.session() as session:
        with pytest.raises(ValueError, match="sum to zero"):
            await post_entry(session, kind="x", postings=[
                Posting(account=user_account("a", "USD"), amount=-5),
                Posting(account=user_account("b", "USD"), amount=4),
            ])
        with pytest.raises(ValueError, match="one currency"):
            await post_entry(session, kind="x", postings=[
                Posting(account=user_account("a", "USD"), amount=-5),
                Posting(account=user_account("b", "EUR"), amount=5),
            ])
    assert await count_entries(db) == 0


async def test_overdraft_is_refused_and_writes_nothing(db) -> None:
    await fund(db, "alice", 100)
    async with db.session() as session, write_transaction(session):
        with pytest.raises(InsufficientFundsError) as caught:
            await post_entry(session, kind="transfer", postings=_transfer("alice", "bob", 101))
    assert caught.value.code == "BAD_USER_INPUT"
    assert caught.value.extensions["reason"] == "INSUFFICIENT_FUNDS"
    assert caught.value.extensions["availableMinor"] == 100
    assert await count_entries(db) == 1
    async with db.session() as session:
        assert await user_balance(session, "alice") == 100


async def test_database_refuses_negative_user_balance(db) -> None:
    await fund(db, "alice", 10)
    async with db.session() as session:
        with pytest.raises(IntegrityError):
            await session.execute(
                sa.update(Account).where(Account.owner_id == "alice").values(balance=-1)
            )
            await session.commit()


async def _pay(db, key: str | None, amount: int, *, principal: str = "alice"):  # type: ignore[no-untyped-def]
    async def perform(session):  # type: ignore[no-untyped-def]
        entry = await post_entry(session, kind="transfer", postings=_transfer("alice", "bob", amount))
        return {"entry": entry, "amount": amount}

    async with db.session() as session:
        return await run_idempotent(
            session, principal=principal, key=key, operation="transfer",
            request={"to": "bob", "amount": amount}, perform=perform,
        )


async def test_idempotency_replays_and_conflicts(db) -> None:
    await fund(db, "alice", 1_000)
    first = await _pay(db, "k1", 100)
    again = await _pay(db, "k1", 100)
    assert not first.replayed and again.replayed
    assert again.result == first.result
    with pytest.raises(ConflictError) as caught:
        await _pay(db, "k1", 200)
    assert caught.value.code == "CONFLICT"
    # The key is scoped to its principal: another caller's "k1" is a different request.
    other = await _pay(db, "k1", 100, principal="someone-else")
    assert not other.replayed
    for key in (None, "", "   ", "x" * 201):
        with pytest.raises(BadUserInputError):
            await _pay(db, key, 100)
    async with db.session() as session:
        assert await user_balance(session, "alice") == 800
    assert await count_entries(db) == 3
    await assert_balanced(db)


async def test_failed_operation_stores_no_key(db) -> None:
    await fund(db, "alice", 50)
    with pytest.raises(InsufficientFundsError):
        await _pay(db, "k", 100)
    await fund(db, "alice", 50)
    assert not (await _pay(db, "k", 100)).replayed
    assert await count_entries(db) == 3


async def test_concurrent_duplicates_write_once(db) -> None:
    await fund(db, "alice", 1_000)
    results = await asyncio.gather(*[_pay(db, "same", 10) for _ in range(20)])
    assert sum(not r.replayed for r in results) == 1
    assert len({r.result["entry"] for r in results}) == 1
    async with db.session() as session:
        assert await user_balance(session, "alice") == 990
    assert await count_entries(db) == 2


async def test_reconciliation_reports_breaks(db) -> None:
    await fund(db, "alice", 500)
    async with db.session() as session:
        await session.execute(sa.update(Account).where(Account.owner_id == "alice").values(balance=400))
        alice = (await session.execute(sa.select(Account.id).where(Account.owner_id == "alice"))).scalar_one()
        entry = (await session.execute(sa.select(JournalLine.entry_id))).scalars().first()
        session.add(JournalLine(entry_id=entry, account_id=alice, currency="USD", amount=7))
        await session.commit()
    async with db.session() as session:
        report = await reconcile(session=session)
    kinds = sorted(b.kind for b in report.breaks)
    assert kinds == ["cached_mismatch", "currency_imbalance", "unbalanced_entry"]
    mismatch = next(b for b in report.breaks if b.kind == "cached_mismatch")
    assert (mismatch.expected, mismatch.actual) == (507, 400)
    assert not report.ok


async def test_system_accounts_that_hold_funds_cannot_go_negative(db) -> None:
    async with db.session() as session, write_transaction(session):
        with pytest.raises(InsufficientFundsError):
            await post_entry(session, kind="x", postings=[
                Posting(account=system_account(SystemAccount.ESCROW_HOLDS, "USD"), amount=-1),
                Posting(account=user_account("a", "USD"), amount=1),
            ])
