"""The markets subgraph's ASGI app (dev port 4105)."""

from __future__ import annotations

from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.auth import TokenVerifier
from shared.config import load_settings
from shared.db import Database, database_from_settings, upgrade
from shared.jobs import configure_broker
from shared.peers import Peers
from shared.redis import KeyValue, create_kv
from subgraphs.markets import workers
from subgraphs.markets.config import MarketsSettings
from subgraphs.markets.migrate import MIGRATIONS_DIR
from subgraphs.markets.schema import schema

__all__ = ["create_app"]


def create_app(
    settings: MarketsSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    database: Database | None = None,
    kv: KeyValue | None = None,
    sweep: bool = True,
) -> Starlette:
    """Build the app; collaborators default to what the settings describe. `sweep=False`
    leaves the stale-bounty job to the caller (tests run it by hand)."""
    settings = settings or load_settings(MarketsSettings)
    database = database or database_from_settings(settings)
    kv = kv or create_kv(settings.redis_url, prefix=settings.kv_prefix)
    verifier = verifier or TokenVerifier.from_settings(settings)
    configure_broker(settings.redis_url)
    peers = Peers.from_settings(settings)

    async def migrate() -> None:
        if settings.migrate_on_startup:
            await upgrade(database, MIGRATIONS_DIR)
        workers.bind(database=database, client=peers.client)

    async def stale_sweep() -> None:
        await workers.sweep_forever(seconds=settings.stale_sweep_seconds)

    app = create_subgraph_app(
        settings=settings,
        schema=schema,
        database=database,
        kv=kv,
        verifier=verifier,
        on_startup=[migrate],
        background=[stale_sweep] if sweep else [],
        peers=peers,
    )
    app.state.markets_peers = peers
    return app
