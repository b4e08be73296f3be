"""The content subgraph's ASGI app (dev port 4104): GraphQL, tus uploads, playback, lookups."""

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
from subgraphs.content import workers
from subgraphs.content.config import ContentSettings
from subgraphs.content.internal import internal_routes
from subgraphs.content.migrate import MIGRATIONS_DIR
from subgraphs.content.playback import playback_routes
from subgraphs.content.runtime import ContentRuntime, build_runtime
from subgraphs.content.schema import schema
from subgraphs.content.services.storage import ObjectStore
from subgraphs.content.tus import tus_routes

__all__ = ["create_app"]


def create_app(
    settings: ContentSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    database: Database | None = None,
    kv: KeyValue | None = None,
    store: ObjectStore | None = None,
    routes_kv: KeyValue | None = None,
) -> Starlette:
    """Build the app; collaborators default to what the settings describe.
    `routes_kv` holds the event routes (default: the kit's `tributary:events:` KV)."""
    settings = settings or load_settings(ContentSettings)
    database = database or database_from_settings(settings)
    kv = kv or create_kv(settings.redis_url, prefix=settings.kv_prefix)
    verifier = verifier or TokenVerifier.from_settings(settings)
    runtime: ContentRuntime = build_runtime(settings, database, store=store)
    # Before any actor sends: without it dramatiq would fall back to a default broker.
    configure_broker(settings.redis_url)
    runtime.uploads.enqueue_processing = workers.enqueue_processing
    runtime.uploads.kv = kv
    events = EventsRuntime(settings=settings, database=database, routes_kv=routes_kv)
    peers = Peers.from_settings(settings)

    async def migrate() -> None:
        if settings.migrate_on_startup:
            await upgrade(database, MIGRATIONS_DIR)
        await runtime.uploads.staging.prepare()
        workers.bind(database=database, store=runtime.store, kv=kv)

    async def close_store() -> None:
        await runtime.store.close()

    def add_runtime(context: RequestContext) -> None:
        context.extra["content"] = runtime

    async def sweep() -> None:
        await workers.sweep_forever(runtime.uploads, seconds=settings.sweep_seconds)

    app = create_subgraph_app(
        settings=settings,
        schema=schema,
        database=database,
        kv=kv,
        verifier=verifier,
        context_factory=add_runtime,
        on_startup=[migrate],
        on_shutdown=[close_store],
        background=[sweep],
        events=events,
        extra_routes=[
            *tus_routes(uploads=runtime.uploads, verifier=verifier, api_keys=peers.api_keys,
                        service=settings.service_name, public_url=settings.public_url,
                        max_size=settings.max_upload_bytes),
            *playback_routes(database=database, store=runtime.store, signer=runtime.signer),
        ],
        internal_routes=internal_routes(database=database),
        peers=peers,
    )
    app.state.content = runtime
    app.state.content_events = events
    return app
