"""Background work of the wallet as dramatiq actors: cashouts, deposits, reconciliation.

Run in-process on the app's event loop in embedded mode (shared.jobs' EmbeddedWorker); in
production `dramatiq subgraphs.wallet.workers`. Actors take ids and are safe to run twice: a
cashout only moves forward from the state it finds. A periodic sweep re-sends every cashout
that is not final, which is what finishes the work of a worker killed mid-way, and sends
`wallet.deposits`, which settles deposits whose hold has ended and completes intents whose
provider call was cut off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import dramatiq

from shared.db import Database, database_from_settings
from shared.jobs import configure_broker
from subgraphs.wallet.config import WalletSettings
from subgraphs.wallet.services.cashouts import pending_cashouts, process_cashout
from subgraphs.wallet.services.deposits import recover_intents, settle_due
from subgraphs.wallet.services.outbox import TOPIC_RECONCILIATION_BREAK, emit
from subgraphs.wallet.services.providers.base import PaymentProvider
from subgraphs.wallet.services.providers.payouts import PayoutProvider, SandboxPayouts
from subgraphs.wallet.services.reconcile import ReconciliationReport, reconcile
from subgraphs.wallet.services.subscriptions import renew_due

__all__ = [
    "QUEUE",
    "bind",
    "deposits_job",
    "enqueue_cashout",
    "process_cashout_job",
    "reconcile_job",
    "reconcile_ledger",
    "renew_subscriptions_job",
    "run_cashout",
    "run_deposits",
    "sweep_cashouts",
    "sweep_forever",
]

log = logging.getLogger("tributary.wallet.workers")
QUEUE = "wallet"

if dramatiq.broker.global_broker is None:
    # Imported by the `dramatiq subgraphs.wallet.workers` CLI: declare the actors on the broker
    # the settings name (Redis + AsyncIO in production), not on dramatiq's default one.
    configure_broker(WalletSettings().redis_url)


@dataclass
class _Resources:
    database: Database
    payouts: PayoutProvider
    providers: Mapping[str, PaymentProvider] = field(default_factory=dict)


_bound: _Resources | None = None


def bind(*, database: Database, payouts: PayoutProvider,
         providers: Mapping[str, PaymentProvider] | None = None) -> None:
    """Use the app's database, payout rail and payment providers (embedded worker)."""
    global _bound
    _bound = _Resources(database=database, payouts=payouts, providers=dict(providers or {}))


def _resources() -> _Resources:
    global _bound
    if _bound is None:  # a standalone dramatiq worker process
        from subgraphs.wallet.runtime import build_runtime

        settings = WalletSettings()
        _bound = _Resources(database=database_from_settings(settings), payouts=SandboxPayouts(),
                            providers=build_runtime(settings).providers)
    return _bound


async def run_cashout(database: Database, payouts: PayoutProvider, cashout_id: str) -> str | None:
    async with database.session() as session:
        return await process_cashout(session=session, payouts=payouts, cashout_id=cashout_id)


async def run_deposits(database: Database, providers: Mapping[str, PaymentProvider]) -> dict[str, int]:
    """Settle deposits whose hold has ended; complete intents a dead process left `creating`."""
    async with database.session() as session:
        settled = await settle_due(session=session)
        recovered = await recover_intents(session=session, providers=providers)
    return {"settled": settled, "recovered": recovered}


async def reconcile_ledger(database: Database) -> ReconciliationReport:
    """Check the ledger; each break is logged and published as a `wallet.reconciliation_break`."""
    async with database.session() as session:
        report = await reconcile(session=session)
        for brk in report.breaks:
            log.error("ledger reconciliation break: %s %s", brk.kind, brk.subject)
            await emit(session, topic=TOPIC_RECONCILIATION_BREAK, key=brk.subject, payload={
                "kind": brk.kind, "currency": brk.currency, "subject": brk.subject,
                "expected": brk.expected, "actual": brk.actual,
            })
        await session.commit()
    return report


@dramatiq.actor(actor_name="wallet.process_cashout", queue_name=QUEUE, max_retries=10)
async def process_cashout_job(cashout_id: str) -> None:
    resources = _resources()
    await run_cashout(resources.database, resources.payouts, cashout_id)


@dramatiq.actor(actor_name="wallet.deposits", queue_name=QUEUE, max_retries=3)
async def deposits_job() -> None:
    resources = _resources()
    counts = await run_deposits(resources.database, resources.providers)
    if any(counts.values()):
        log.info("deposits: %s", counts)


@dramatiq.actor(actor_name="wallet.reconcile", queue_name=QUEUE, max_retries=3)
async def reconcile_job() -> None:
    await reconcile_ledger(_resources().database)


@dramatiq.actor(actor_name="wallet.renew_subscriptions", queue_name=QUEUE, max_retries=3)
async def renew_subscriptions_job() -> None:
    async with _resources().database.session() as session:
        counts = await renew_due(session=session)
    if any(counts.values()):
        log.info("subscription renewals: %s", counts)


async def enqueue_cashout(cashout_id: str) -> None:
    process_cashout_job.send(cashout_id)


async def sweep_cashouts(database: Database) -> int:
    """Re-send every cashout not yet final; returns how many."""
    async with database.session() as session:
        pending = await pending_cashouts(session=session)
    for cashout_id in pending:
        process_cashout_job.send(cashout_id)
    return len(pending)


async def sweep_forever(database: Database, *, cashout_seconds: float, reconcile_seconds: float) -> None:
    """The app's scheduler: cashout sweeps, and a reconciliation run every `reconcile_seconds`."""
    since_reconcile = 0.0
    while True:
        try:
            await sweep_cashouts(database)
            renew_subscriptions_job.send()
            deposits_job.send()
            if since_reconcile >= reconcile_seconds:
                reconcile_job.send()
                since_reconcile = 0.0
        except Exception:
            log.exception("wallet sweep failed")
        await asyncio.sleep(cashout_seconds)
        since_reconcile += cashout_seconds
