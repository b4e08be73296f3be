"""Dramatiq actors on the embedded worker: cashouts resumed by the sweep, reconciliation job."""

from __future__ import annotations

import sqlalchemy as sa

from shared.jobs import configure_broker, embedded_worker
from subgraphs.wallet import workers
from subgraphs.wallet.models import Account
from subgraphs.wallet.services.cashouts import get_cashout, mark_processing, request_cashout
from subgraphs.wallet.services.outbox import TOPIC_RECONCILIATION_BREAK, list_events
from subgraphs.wallet.services.providers.payouts import SandboxPayouts
from tests.subgraphs.wallet.helpers import assert_balanced, fund


async def test_sweep_finishes_cashouts_left_by_a_dead_worker(db) -> None:
    broker = configure_broker(None)
    payouts = SandboxPayouts(failing_users={"bob"})
    workers.bind(database=db, payouts=payouts)
    await fund(db, "alice", 1_000)
    await fund(db, "bob", 1_000)
    async with db.session() as session:
        stuck, _ = await request_cashout(session=session, user_id="alice", amount="3.00",
                                         currency="USD", idempotency_key="a")
        # A worker took this one to "processing" and died before paying.
        await mark_processing(session=session, cashout_id=stuck.id)
        never_sent, _ = await request_cashout(session=session, user_id="bob", amount="2.00",
                                              currency="USD", idempotency_key="b")
    async with embedded_worker(broker) as worker:
        assert await workers.sweep_cashouts(db) == 2
        await worker.join()
        assert await workers.sweep_cashouts(db) == 0
    async with db.session() as session:
        assert (await get_cashout(session=session, cashout_id=stuck.id)).status == "paid"
        assert (await get_cashout(session=session, cashout_id=never_sent.id)).status == "reversed"
    assert len(payouts.results) == 2
    await assert_balanced(db)


async def test_reconcile_job_reports_breaks_as_events(db) -> None:
    broker = configure_broker(None)
    workers.bind(database=db, payouts=SandboxPayouts())
    await fund(db, "alice", 1_000)
    async with embedded_worker(broker) as worker:
        workers.reconcile_job.send()
        await worker.join()
        async with db.session() as session:
            assert await list_events(session=session, topic=TOPIC_RECONCILIATION_BREAK) == []
            await session.execute(sa.update(Account).where(Account.owner_id == "alice").values(balance=999))
            await session.commit()
        workers.reconcile_job.send()
        await worker.join()
    async with db.session() as session:
        events = await list_events(session=session, topic=TOPIC_RECONCILIATION_BREAK)
    assert [(e.payload["kind"], e.payload["expected"], e.payload["actual"]) for e in events] == [
        ("cached_mismatch", 1_000, 999)
    ]
