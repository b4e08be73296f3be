"""The social subgraph's ASGI app (dev port 4102)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.auth import TokenVerifier
from shared.config import load_settings
from shared.db import Database, database_from_settings, upgrade
from shared.events import EventsRuntime
from shared.redis import KeyValue, create_kv
from subgraphs.social import workers
from subgraphs.social.config import SocialSettings
from subgraphs.social.internal import internal_routes
from subgraphs.social.schema import schema

__all__ = ["MIGRATIONS", "create_app"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(
    settings: SocialSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    database: Database | None = None,
    kv: KeyValue | None = None,
    routes_kv: KeyValue | None = None,
) -> Starlette:
    """Build the app; `verifier`/`database`/`kv` default to what the settings describe.
    `routes_kv` holds the event routes (default: the kit's `tributary:events:` KV)."""
    settings = settings or load_settings(SocialSettings)
    database = database or database_from_settings(settings)
    kv = kv or create_kv(settings.redis_url, prefix=settings.kv_prefix)
    verifier = verifier or TokenVerifier.from_settings(settings)

    async def migrate() -> None:
        if settings.migrate_on_startup:
            await upgrade(database, MIGRATIONS)
        workers.bind(database=database, kv=kv)

    events = EventsRuntime(settings=settings, database=database, routes_kv=routes_kv)
    app = create_subgraph_app(
        settings=settings,
        schema=schema,
        database=database,
        kv=kv,
        verifier=verifier,
        on_startup=[migrate],
        events=events,
        internal_routes=internal_routes(database=database),
    )
    app.state.events = events
    return app
