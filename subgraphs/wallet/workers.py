"""Background work of the wallet: driving cashouts and reconciling the ledger.

Each job body is a single service call taking ids, safe to run twice. `CashoutRunner` is the
embedded driver: a queue fed after each cashout commits, plus a sweeper that re-enqueues every
cashout not yet final, which is also what finishes the work of a worker that died mid-way.
"""

from __future__ import annotations

import asyncio
import logging

from shared.db import Database
from subgraphs.wallet.services.cashouts import pending_cashouts, process_cashout
from subgraphs.wallet.services.outbox import TOPIC_RECONCILIATION_BREAK, emit
from subgraphs.wallet.services.providers.payouts import PayoutProvider
from subgraphs.wallet.services.reconcile import ReconciliationReport, reconcile

__all__ = ["CashoutRunner", "reconcile_ledger", "run_cashout"]

log = logging.getLogger("tributary.wallet.workers")


async def run_cashout(database: Database, payouts: PayoutProvider, cashout_id: str) -> str | None:
    async with database.session() as session:
        return await process_cashout(session=session, payouts=payouts, cashout_id=cashout_id)


async def reconcile_ledger(database: Database) -> ReconciliationReport:
    """Check the ledger; each break is logged and sent to moderation/ops as an outbox event."""
    async with database.session() as session:
        report = await reconcile(session=session)
        for brk in report.breaks:
            log.error("ledger reconciliation break", extra={"kind": brk.kind, "subject": brk.subject})
            await emit(session, topic=TOPIC_RECONCILIATION_BREAK, key=brk.subject, payload={
                "kind": brk.kind, "currency": brk.currency, "subject": brk.subject,
                "expected": brk.expected, "actual": brk.actual,
            })
        await session.commit()
    return report


class CashoutRunner:
    """In-process cashout driver (the embedded default)."""

    def __init__(self, database: Database, payouts: PayoutProvider, *, sweep_seconds: float) -> None:
        self._database = database
        self._payouts = payouts
        self._sweep_seconds = sweep_seconds
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    async def enqueue(self, cashout_id: str) -> None:
        self._queue.put_nowait(cashout_id)

    async def run(self) -> None:
        """Consume the queue and sweep periodically until cancelled."""
        sweeper = asyncio.create_task(self._sweep_forever())
        try:
            while True:
                cashout_id = await self._queue.get()
                await self._run_one(cashout_id)
        finally:
            sweeper.cancel()

    async def sweep(self) -> int:
        async with self._database.session() as session:
            pending = await pending_cashouts(session=session)
        for cashout_id in pending:
            await self.enqueue(cashout_id)
        return len(pending)

    async def drain(self) -> None:
        """Process everything queued now (tests and shutdown)."""
        while not self._queue.empty():
            await self._run_one(self._queue.get_nowait())

    async def _run_one(self, cashout_id: str) -> None:
        try:
            await run_cashout(self._database, self._payouts, cashout_id)
        except Exception:
            # Left non-final in the database: the next sweep retries it.
            log.exception("cashout step failed", extra={"cashout_id": cashout_id})

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("cashout sweep failed")
            await asyncio.sleep(self._sweep_seconds)
