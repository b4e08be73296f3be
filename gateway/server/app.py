"""The gateway ASGI app: /graphql, /health, and a supergraph that can be swapped while serving."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from shared.auth import TokenVerifier
from shared.graphiql import asset_route
from shared.telemetry import configure_logging

from ..config import GatewaySettings
from ..executor import ClientOptions, Engine, HttpSubgraphClient, Limits
from ._realtime import Realtime
from .access_log import AccessLogMiddleware
from .authorization import Authorizer
from .client_address import TrustedProxies
from .cors import cors_middleware
from .credential import GatewayCredential
from .http import handle_graphql
from .metrics import GatewayMetrics
from .persisted import PersistedQueries
from .rate_limit import RateLimiter
from .sse import stream_endpoint, with_event_stream
from .websocket import websocket_endpoint

logger = logging.getLogger("tributary.gateway")


class Gateway:
    """Holds the current engine; requests take a reference, so a swap never disturbs one in flight."""

    def __init__(self, settings: GatewaySettings, supergraph_sdl: str | None = None, *,
                 credential: GatewayCredential | None = None) -> None:
        self.settings = settings
        self.credential = credential
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.client = HttpSubgraphClient(
            ClientOptions(
                timeout_seconds=settings.subgraph_timeout_seconds,
                dedupe_in_flight=settings.dedupe_in_flight,
                credential=credential.headers if credential is not None else None,
            )
        )
        self.engine: Engine | None = None
        self.propagate = tuple(h.lower() for h in settings.propagate_headers)
        self.persisted = PersistedQueries(settings.persisted_queries_size) if settings.persisted_queries else None
        self.metrics = GatewayMetrics()
        self.verifier = _token_verifier(settings)
        self.authorizer = Authorizer(settings, self.verifier, credential)
        self.rate_limiter = RateLimiter.from_settings(settings)
        self._mtime: float | None = None
        if supergraph_sdl is None and settings.supergraph:
            supergraph_sdl = self._read_file()
        if supergraph_sdl is not None:
            self.engine = self.build_engine(supergraph_sdl)

    def build_engine(self, sdl: str) -> Engine:
        s = self.settings
        return Engine(
            sdl,
            self.client,
            url_overrides=s.subgraph_urls,
            cache_size=s.plan_cache_size,
            override_labels=frozenset(s.override_labels),
            limits=Limits(
                max_depth=s.max_depth,
                max_aliases=s.max_aliases,
                max_tokens=s.max_tokens,
                introspection=s.introspection,
                cost_mode=s.demand_control_mode,
                max_cost=s.max_cost,
                default_list_size=s.default_list_size,
            ),
        )

    def swap(self, sdl: str) -> None:
        """Install a new supergraph; raises (keeping the old one) when it does not load."""
        self.engine = self.build_engine(sdl)
        logger.info("supergraph loaded", extra={"subgraphs": list(self.engine.urls)})

    def _read_file(self) -> str:
        assert self.settings.supergraph
        self._mtime = os.stat(self.settings.supergraph).st_mtime
        with open(self.settings.supergraph, encoding="utf-8") as handle:
            return handle.read()

    async def watch_file(self) -> None:
        path = self.settings.supergraph
        if not path:
            return
        while True:
            await asyncio.sleep(self.settings.poll_interval_seconds)
            try:
                mtime = os.stat(path).st_mtime
                if mtime == self._mtime:
                    continue
                sdl = self._read_file()
                self.swap(sdl)
            except Exception as error:  # noqa: BLE001 - whatever broke the file, keep serving the last good supergraph
                logger.error("supergraph reload failed, keeping the previous one: %s", error)

    async def graphql(self, request: Request) -> Response:
        engine = self.engine
        if engine is None:
            return JSONResponse(
                {"errors": [{"message": "No supergraph loaded yet.", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]},
                status_code=503,
            )
        return await handle_graphql(
            request,
            engine,
            propagate=self.propagate,
            max_body_bytes=self.settings.max_body_bytes,
            graphiql=self.settings.graphiql,
            persisted=self.persisted,
            metrics=self.metrics,
            proxies=self.proxies,
            authorizer=self.authorizer,
            cost_in_extensions=self.settings.cost_in_extensions,
            rate_limiter=self.rate_limiter,
        )

    async def health(self, request: Request) -> Response:
        ready = self.engine is not None
        return JSONResponse({"status": "ok" if ready else "starting"}, status_code=200 if ready else 503)


def _token_verifier(settings: GatewaySettings) -> TokenVerifier | None:
    """Tokens are judged once, here, when identity's JWKS (or a dev secret) is configured."""
    if not (settings.jwks_url or settings.jwt_dev_hs256_secret):
        return None
    return TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        jwks_url=settings.jwks_url,
        hs256_secret=settings.jwt_dev_hs256_secret,
        cache_seconds=settings.jwks_cache_seconds,
        # an expired token must end a subscription when it expires, not half a minute later
        leeway=0.0,
    )


def create_app(
    settings: GatewaySettings | None = None,
    *,
    supergraph_sdl: str | None = None,
    background: tuple[Callable[[Gateway], Any], ...] = (),
    credential: GatewayCredential | None = None,
) -> Starlette:
    """The gateway app; `credential` defaults to the configured `GATEWAY_SERVICE_KEY`."""
    settings = settings or GatewaySettings()
    configure_logging(settings.log_level, logger="tributary.gateway")
    if credential is None and settings.service_key:
        credential = GatewayCredential.load(pem=settings.service_key, data_dir=None)
    gateway = Gateway(settings, supergraph_sdl, credential=credential)
    realtime = Realtime(gateway)  # subscriptions: WebSocket and SSE

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(gateway.watch_file())]
        tasks += [asyncio.create_task(job(gateway)) for job in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await gateway.client.close()
            await gateway.authorizer.close()
            if gateway.rate_limiter is not None:
                await gateway.rate_limiter.close()
            await realtime.close()

    app = Starlette(
        routes=[
            Route("/graphql", with_event_stream(gateway.graphql, realtime), methods=["GET", "POST"]),
            Route("/", with_event_stream(gateway.graphql, realtime), methods=["GET", "POST"]),
            Route("/graphql/stream", stream_endpoint(realtime), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", websocket_endpoint(realtime)),
            WebSocketRoute("/", websocket_endpoint(realtime)),
            Route("/health", gateway.health, methods=["GET"]),
            asset_route(),
            Route("/metrics", gateway.metrics.endpoint, methods=["GET"]),
        ],
        middleware=[Middleware(AccessLogMiddleware), *cors_middleware(settings)],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.realtime = realtime
    return app
