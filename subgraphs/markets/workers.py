"""Background work of markets as dramatiq actors: the stale-bounty job.

Run in-process on the app's event loop in embedded mode (shared.jobs' EmbeddedWorker); in
production `dramatiq subgraphs.markets.workers`. The job takes no arguments and is safe to run
twice at once: each bounty's expiry is one locked transition, and each escrow call is keyed by
the bounty and the action.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import dramatiq

from shared.db import Database, database_from_settings
from shared.internal import InternalClient
from shared.jobs import configure_broker
from shared.peers import Peers
from subgraphs.markets.config import MarketsSettings
from subgraphs.markets.services.bounties import expire_due, settle_pending

__all__ = ["QUEUE", "bind", "run_stale_bounties", "stale_bounties_job", "sweep_forever"]

log = logging.getLogger("tributary.markets.workers")
QUEUE = "markets"

if dramatiq.broker.global_broker is None:
    configure_broker(MarketsSettings().redis_url)


@dataclass
class _Resources:
    database: Database
    client: InternalClient


_bound: _Resources | None = None


def bind(*, database: Database, client: InternalClient) -> None:
    """Use the app's database and its internal client (embedded worker)."""
    global _bound
    _bound = _Resources(database=database, client=client)


def _resources() -> _Resources:
    global _bound
    if _bound is None:  # a standalone dramatiq worker process
        settings = MarketsSettings()
        _bound = _Resources(database=database_from_settings(settings),
                            client=Peers.from_settings(settings).client)
    return _bound


async def run_stale_bounties(database: Database, client: InternalClient) -> dict[str, int]:
    """Expire open bounties past their deadline (releasing their hold); finish settlements."""
    expired = await expire_due(database=database, client=client)
    retried = await settle_pending(database=database, client=client)
    return {"expired": expired, "settlements_retried": retried}


@dramatiq.actor(actor_name="markets.stale_bounties", queue_name=QUEUE, max_retries=3)
async def stale_bounties_job() -> None:
    resources = _resources()
    counts = await run_stale_bounties(resources.database, resources.client)
    if any(counts.values()):
        log.info("stale bounties: %s", counts)


async def sweep_forever(*, seconds: float) -> None:
    """The app's scheduler: send the stale-bounty job every `seconds`."""
    while True:
        try:
            stale_bounties_job.send()
        except Exception:
            log.exception("markets sweep failed")
        await asyncio.sleep(seconds)
