"""Cashouts: the state machine, held funds, and workers killed between or inside steps."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from shared.errors import BadUserInputError
from subgraphs.wallet.models import Cashout, JournalEntry
from subgraphs.wallet.services.cashouts import (
    _locked,
    get_cashout,
    mark_processing,
    pending_cashouts,
    process_cashout,
    request_cashout,
    settle,
)
from subgraphs.wallet.services.ledger import (
    Posting,
    SystemAccount,
    balance_of,
    post_entry,
    system_account,
    user_account,
    write_transaction,
)
from subgraphs.wallet.services.outbox import TOPIC_CASHOUT, list_events
from subgraphs.wallet.services.providers.payouts import PayoutResult, SandboxPayouts
from tests.subgraphs.wallet.helpers import assert_balanced, database_state, fund


async def _request(db, amount="4.00", key="c1", user="alice"):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        cashout, _ = await request_cashout(
            session=session, user_id=user, amount=amount, currency="USD", idempotency_key=key
        )
    return cashout


async def _process(db, payouts, cashout_id):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await process_cashout(session=session, payouts=payouts, cashout_id=cashout_id)


async def _balances(db, user="alice") -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return (
            await balance_of(session, user_account(user, "USD")),
            await balance_of(session, system_account(SystemAccount.CASHOUT_CLEARING, "USD")),
            await balance_of(session, system_account(SystemAccount.CASHOUTS_PAID, "USD")),
        )


async def _entries(db, kind: str) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return int((await session.execute(
            sa.select(sa.func.count()).select_from(JournalEntry).where(JournalEntry.kind == kind)
        )).scalar_one())


async def test_paid_cashout_holds_then_pays(db) -> None:
    await fund(db, "alice", 1_000)
    cashout = await _request(db)
    assert cashout.status == "requested"
    assert await _balances(db) == (600, 400, 0)  # held while not final
    payouts = SandboxPayouts()
    assert await _process(db, payouts, cashout.id) == "paid"
    assert await _balances(db) == (600, 0, 400)
    assert await _process(db, payouts, cashout.id) == "paid"  # re-running changes nothing
    assert len(payouts.results) == 1 and await _entries(db, "cashout_paid") == 1
    async with db.session() as session:
        statuses = [e.payload["status"] for e in await list_events(session=session, topic=TOPIC_CASHOUT)]
        assert await pending_cashouts(session=session) == []
    assert statuses == ["requested", "processing", "paid"]
    await assert_balanced(db)


async def test_failed_cashout_is_reversed(db) -> None:
    await fund(db, "alice", 1_000)
    cashout = await _request(db)
    assert await _process(db, SandboxPayouts(failing_users={"alice"}), cashout.id) == "reversed"
    assert await _balances(db) == (1_000, 0, 0)
    async with db.session() as session:
        final = await get_cashout(session=session, cashout_id=cashout.id)
    assert final.failure_reason == "account_closed"
    await assert_balanced(db)


async def test_cashout_input_and_idempotency(db) -> None:
    await fund(db, "alice", 1_000)
    with pytest.raises(BadUserInputError) as caught:
        await _request(db, amount="10.01")
    assert caught.value.extensions["reason"] == "INSUFFICIENT_FUNDS"
    for amount in ("-1", "0", "x"):
        with pytest.raises(BadUserInputError):
            await _request(db, amount=amount)
    first = await _request(db)
    assert (await _request(db)).id == first.id
    async with db.session() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Cashout))).scalar_one() == 1
    assert await _balances(db) == (600, 400, 0)


async def test_killed_inside_settle_transaction_then_restarted(db) -> None:
    await fund(db, "alice", 1_000)
    cashout = await _request(db)
    payouts = SandboxPayouts()
    async with db.session() as session:
        await mark_processing(session=session, cashout_id=cashout.id)
    result = await payouts.send_payout(payout_id=cashout.id, user_id="alice", amount=400, currency="USD")
    # The worker dies halfway through the settle transaction: its writes never commit.
    async with db.session() as session, write_transaction(session):
        row = await _locked(session, cashout.id)
        await post_entry(session, kind="cashout_paid", postings=[
            Posting(account=system_account(SystemAccount.CASHOUT_CLEARING, "USD"), amount=-400),
            Posting(account=system_account(SystemAccount.CASHOUTS_PAID, "USD"), amount=400),
        ])
        row.status = "paid"
        await session.flush()
    async with db.session() as session:
        assert (await get_cashout(session=session, cashout_id=cashout.id)).status == "processing"
    assert await _balances(db) == (600, 400, 0)
    await assert_balanced(db)
    assert await _process(db, payouts, cashout.id) == "paid"  # restart
    async with db.session() as session:
        final = await get_cashout(session=session, cashout_id=cashout.id)
    assert final.payout_ref == result.ref and len(payouts.results) == 1
    assert await _balances(db) == (600, 0, 400)
    assert await _entries(db, "cashout_paid") == 1
    await assert_balanced(db)


async def test_killed_between_failed_and_reversed_then_restarted(db) -> None:
    await fund(db, "alice", 1_000)
    cashout = await _request(db)
    async with db.session() as session:
        await mark_processing(session=session, cashout_id=cashout.id)
        await settle(session=session, cashout_id=cashout.id, ok=False, ref=None, reason="rail down")
    assert await _balances(db) == (600, 400, 0)  # still held, ledger balanced
    await assert_balanced(db)
    assert await _process(db, SandboxPayouts(), cashout.id) == "reversed"
    assert await _balances(db) == (1_000, 0, 0)
    assert await _entries(db, "cashout_reversal") == 1
    await assert_balanced(db)


@pytest.mark.parametrize("crash_after", ["request", "processing"])
async def test_killed_between_steps_then_restarted(db, crash_after: str) -> None:
    await fund(db, "alice", 1_000)
    cashout = await _request(db)
    if crash_after == "processing":
        async with db.session() as session:
            assert await mark_processing(session=session, cashout_id=cashout.id) == "processing"
    async with db.session() as session:
        assert await pending_cashouts(session=session) == [cashout.id]
    payouts = SandboxPayouts()
    assert await _process(db, payouts, cashout.id) == "paid"
    async with db.session() as session:
        assert (await get_cashout(session=session, cashout_id=cashout.id)).attempts == 1
    assert await _balances(db) == (600, 0, 400)
    await assert_balanced(db)


async def test_two_workers_on_one_cashout_pay_once(db) -> None:
    await fund(db, "alice", 1_000)
    cashout = await _request(db)
    payouts = SandboxPayouts()
    outcomes = await asyncio.gather(*[_process(db, payouts, cashout.id) for _ in range(4)])
    assert set(outcomes) == {"paid"}
    assert len(payouts.results) == 1 and await _entries(db, "cashout_paid") == 1
    assert await _balances(db) == (600, 0, 400)
    await assert_balanced(db)


class _WatchingPayouts(SandboxPayouts):
    """The sandbox rail, which first looks at the database from outside, as a bank would not."""

    def __init__(self, db, *, fail_with: Exception | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.db, self.fail_with, self.seen = db, fail_with, []  # type: ignore[var-annotated]

    async def send_payout(self, *, payout_id: str, user_id: str, amount: int, currency: str) -> PayoutResult:
        self.seen.append(await database_state(self.db, "wallet_cashouts", payout_id))
        if self.fail_with is not None:
            raise self.fail_with
        return await super().send_payout(payout_id=payout_id, user_id=user_id, amount=amount, currency=currency)


async def test_payout_rail_is_called_with_no_transaction_open(db) -> None:
    await fund(db, "alice", 1000)
    cashout = await _request(db)
    broken = _WatchingPayouts(db, fail_with=ConnectionError("rail down"))
    with pytest.raises(ConnectionError):
        await _process(db, broken, cashout.id)
    watching = _WatchingPayouts(db)
    assert await _process(db, watching, cashout.id) == "paid"  # the sweep's retry
    expected = {"status": "processing", "open_transactions": 0, "row_locked": False}
    assert broken.seen == [expected] and watching.seen == [expected]
    await assert_balanced(db)
