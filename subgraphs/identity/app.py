"""The identity subgraph's ASGI app (port 4101 in dev): GraphQL, JWKS, health and metrics."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.app import create_subgraph_app
from shared.auth import Caller
from shared.config import load_settings
from shared.context import RequestContext
from shared.db import Database, database_from_settings
from shared.redis import KeyValue, create_kv
from subgraphs.identity.config import IdentitySettings
from subgraphs.identity.internal import internal_routes
from subgraphs.identity.migrate import migrate
from subgraphs.identity.resolvers._context import RUNTIME_KEY
from subgraphs.identity.runtime import IdentityRuntime, build_runtime
from subgraphs.identity.schema import schema
from subgraphs.identity.services.api_keys import resolve_api_key
from subgraphs.identity.webhooks import webhook_routes

__all__ = ["JWKS_PATH", "create_app"]

JWKS_PATH = "/.well-known/jwks.json"
KV_PREFIX = "identity:"


def create_app(
    settings: IdentitySettings | None = None,
    *,
    database: Database | None = None,
    kv: KeyValue | None = None,
    runtime: IdentityRuntime | None = None,
) -> Starlette:
    """Build the app; the database is migrated to head on startup.

    `database`, `kv` and `runtime` may be injected (tests, the dev runner); by default they are
    built from `settings` (itself loaded from IDENTITY_* variables when not given).
    """
    settings = settings or load_settings(IdentitySettings)
    runtime = runtime or build_runtime(settings)
    database = database or database_from_settings(settings)
    kv = kv or create_kv(settings.redis_url, prefix=KV_PREFIX)

    async def jwks(_: Request) -> JSONResponse:
        # Verifiers cache this; a short max-age lets a rotated key reach them within minutes.
        return JSONResponse(runtime.issuer.jwks(), headers={"cache-control": "public, max-age=300"})

    async def resolve_key(key: str) -> Caller | None:
        async with database.session() as session:
            return await resolve_api_key(session=session, key=key)

    def add_runtime(context: RequestContext) -> None:
        context.extra[RUNTIME_KEY] = runtime

    async def upgrade_schema() -> None:
        await migrate(database)

    app = create_subgraph_app(
        settings=settings,
        schema=schema,
        database=database,
        kv=kv,
        verifier=runtime.verifier,
        context_factory=add_runtime,
        on_startup=[upgrade_schema],
        extra_routes=[Route(JWKS_PATH, jwks, methods=["GET"]),
                      *webhook_routes(runtime=runtime, database=database)],
        api_key_resolver=resolve_key,
        internal_routes=internal_routes(database=database),
    )
    # Tests (and the dev runner) reach the dev sender's outbox through the app.
    app.state.identity = runtime
    return app
