"""The wallet subgraph's ASGI app (dev port 4103)."""

from __future__ import annotations

from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.auth import TokenVerifier
from shared.config import load_settings
from shared.context import RequestContext
from shared.db import Database, database_from_settings, upgrade
from shared.events import EventsRuntime
from shared.jobs import configure_broker
from shared.peers import Peers
from shared.redis import KeyValue, create_kv
from subgraphs.wallet import workers
from subgraphs.wallet.config import WalletSettings
from subgraphs.wallet.internal import escrow_routes
from subgraphs.wallet.migrate import MIGRATIONS_DIR
from subgraphs.wallet.runtime import WalletRuntime, build_runtime
from subgraphs.wallet.schema import schema
from subgraphs.wallet.webhooks import webhook_routes

__all__ = ["create_app"]


def create_app(
    settings: WalletSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    database: Database | None = None,
    kv: KeyValue | None = None,
    runtime: WalletRuntime | None = None,
    routes_kv: KeyValue | None = None,
) -> Starlette:
    """Build the app; collaborators default to what the settings describe.
    `routes_kv` holds the event routes (default: the kit's `tributary:events:` KV)."""
    settings = settings or load_settings(WalletSettings)
    database = database or database_from_settings(settings)
    kv = kv or create_kv(settings.redis_url, prefix=settings.kv_prefix)
    verifier = verifier or TokenVerifier.from_settings(settings)
    runtime = runtime or build_runtime(settings)
    # Before any actor sends: without it dramatiq would fall back to a default broker.
    configure_broker(settings.redis_url)
    runtime.enqueue_cashout = workers.enqueue_cashout
    events = EventsRuntime(settings=settings, database=database, routes_kv=routes_kv)
    peers = Peers.from_settings(settings)

    async def migrate() -> None:
        if settings.migrate_on_startup:
            await upgrade(database, MIGRATIONS_DIR)
        workers.bind(database=database, payouts=runtime.payouts, providers=runtime.providers)

    def add_runtime(context: RequestContext) -> None:
        context.extra["wallet"] = runtime

    async def sweep() -> None:
        await workers.sweep_forever(database, cashout_seconds=settings.cashout_sweep_seconds,
                                    reconcile_seconds=settings.reconcile_seconds)

    app = create_subgraph_app(
        settings=settings,
        schema=schema,
        database=database,
        kv=kv,
        verifier=verifier,
        context_factory=add_runtime,
        on_startup=[migrate],
        background=[sweep],
        events=events,
        extra_routes=webhook_routes(database=database, providers=runtime.providers,
                                    settlement_hold=runtime.settlement_hold),
        internal_routes=escrow_routes(database=database, verifier=verifier,
                                      api_keys=peers.api_keys, references=peers.references),
        peers=peers,
    )
    app.state.wallet = runtime
    app.state.wallet_events = events
    return app
