"""The moderation subgraph's ASGI app (dev port 4106)."""

from __future__ import annotations

from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.auth import TokenVerifier
from shared.config import load_settings
from shared.db import Database, database_from_settings, upgrade
from shared.redis import KeyValue, create_kv
from subgraphs.moderation import workers
from subgraphs.moderation.config import ModerationSettings
from subgraphs.moderation.internal import internal_routes
from subgraphs.moderation.migrate import MIGRATIONS_DIR
from subgraphs.moderation.schema import schema
from subgraphs.moderation.services.classifier import TextClassifier

__all__ = ["create_app"]


def create_app(
    settings: ModerationSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    database: Database | None = None,
    kv: KeyValue | None = None,
    classifier: TextClassifier | None = None,
) -> Starlette:
    """Build the app; collaborators default to what the settings describe."""
    settings = settings or load_settings(ModerationSettings)
    database = database or database_from_settings(settings)
    kv = kv or create_kv(settings.redis_url, prefix=settings.kv_prefix)
    verifier = verifier or TokenVerifier.from_settings(settings)
    classifier = classifier or TextClassifier(link_limit=settings.link_limit,
                                              mention_limit=settings.mention_limit)

    async def start() -> None:
        if settings.migrate_on_startup:
            await upgrade(database, MIGRATIONS_DIR)
        # Before the internal port opens: the first check must not wait for the model.
        await workers.warm(classifier)

    app = create_subgraph_app(
        settings=settings,
        schema=schema,
        database=database,
        kv=kv,
        verifier=verifier,
        on_startup=[start],
        internal_routes=internal_routes(database=database, classifier=classifier,
                                        settings=settings),
    )
    app.state.classifier = classifier
    return app
