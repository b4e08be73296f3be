"""The Strawberry subgraph app factory: /graphql, health, metrics, logs, traces, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import DocumentNode, GraphQLError, GraphQLSchema
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from shared.auth import (
    ANONYMOUS,
    ApiKeyResolver,
    TokenVerifier,
    authenticate_request,
)
from shared.config import ServiceSettings
from shared.context import RequestContext
from shared.db import Database
from shared.errors import (
    BAD_REQUEST,
    INTERNAL_MESSAGE,
    PAYLOAD_TOO_LARGE,
    ServiceUnavailableError,
    TributaryErrorExtension,
    UnauthenticatedError,
    format_error,
)
from shared.events import EventsRuntime
from shared.gateway_only import GatewayOnlyFields
from shared.graphiql import asset_route, graphiql_html
from shared.internal import InternalRoute, InternalServer, internal_app
from shared.peers import Peers
from shared.redis import KeyValue
from shared.revocation import TokenRevocations, revocation_kv
from shared.scopes import ApiKeyScopes
from shared.service_auth import CLIENT_ADDRESS_HEADER, SERVICE_TOKEN_HEADER, ServiceKeyring
from shared.telemetry import (
    ServiceMetrics,
    configure_logging,
    create_tracer_provider,
    request_id_var,
    sanitize_request_id,
    service_var,
    tracer_for,
)

__all__ = ["create_subgraph_app", "graphql_error_response"]

log = logging.getLogger("tributary.app")

Hook = Callable[..., Awaitable[Any]]
ContextFactory = Callable[[RequestContext], Awaitable[None] | None]
_QUIET_PATHS = ("/health/live", "/health/ready", "/metrics")
_READY_TIMEOUT = 2.0
_OPERATION_CACHE_SIZE = 512


def graphql_error_response(message: str, code: str, status: int,
                           headers: dict[str, str] | None = None, *,
                           extensions: dict[str, Any] | None = None) -> Response:
    """A GraphQL-shaped JSON error for failures that happen before execution."""
    body = {"errors": [{"message": message, "extensions": {**(extensions or {}), "code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers)


def _from_gateway(headers: Any, keyring: ServiceKeyring) -> bool:
    token = headers.get(SERVICE_TOKEN_HEADER)
    if not token:
        return False
    try:
        return keyring.verify(token) == "gateway"
    except UnauthenticatedError:
        return False


class _AuthFailedError(Exception):
    def __init__(self, error: UnauthenticatedError | ServiceUnavailableError) -> None:
        super().__init__(error.message)
        self.error = error


class _SubgraphGraphQL(GraphQL[RequestContext, None]):
    """strawberry's ASGI view, with our context, auth and JSON errors for bad requests."""

    def __init__(self, schema: BaseSchema, *, app_state: Any, graphiql: bool,
                 context_factory: ContextFactory | None,
                 api_key_resolver: ApiKeyResolver | None) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None,
                         allow_queries_via_get=True)
        self.app_state = app_state
        self.context_factory = context_factory
        self.api_key_resolver = api_key_resolver

    async def render_graphql_ide(self, request: Request) -> Response:
        # strawberry's page loads GraphiQL from a CDN; ours ships with the project
        name = self.app_state.settings.service_name
        return HTMLResponse(graphiql_html(title=f"Tributary {name} · GraphiQL"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = graphql_error_response(error.reason, BAD_REQUEST, error.status_code)
        except _AuthFailedError as failed:
            if isinstance(failed.error, ServiceUnavailableError):
                # The credential could not be checked (revocations unreadable): not the
                # client's fault, and not a reason for it to sign in again.
                response = graphql_error_response(failed.error.message, failed.error.code, 503)
            else:
                # The reason (expired, revoked...) tells a client whether refreshing can help.
                response = graphql_error_response(
                    failed.error.message, failed.error.code, 401,
                    headers={"www-authenticate": "Bearer"},
                    extensions=failed.error.graphql_extensions())
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        # str, not bytes: graphql-transport-ws requires text frames.
        return orjson.dumps(data).decode()

    async def parse_http_body(self, request: Any) -> Any:
        try:
            return await super().parse_http_body(request)
        except HTTPException:
            raise
        except (UnicodeDecodeError, AttributeError, TypeError, ValueError) as error:
            # JSON that is not an operation object (a number, a list of strings, bad UTF-8...).
            raise HTTPException(400, "Request body is not a GraphQL operation") from error

    async def get_context(self, request: Request | WebSocket,
                          response: Response | WebSocket) -> RequestContext:
        state = self.app_state
        request_id = request_id_var.get() or sanitize_request_id(None)
        caller = ANONYMOUS
        auth_error: UnauthenticatedError | ServiceUnavailableError | None = None
        try:
            caller = await authenticate_request(
                request.headers, state.verifier, api_key_resolver=self.api_key_resolver)
        except (UnauthenticatedError, ServiceUnavailableError) as error:
            if isinstance(request, Request):
                raise _AuthFailedError(error) from None
            auth_error = error  # WebSockets may still authenticate in connection_init
        from_gateway = _from_gateway(request.headers, state.peers.keyring)
        address = request.headers.get(CLIENT_ADDRESS_HEADER) if from_gateway else None
        if not address:
            address = request.client.host if request.client else None
        context = RequestContext(caller=caller, request_id=request_id, database=state.database,
                                 kv=state.kv, settings=state.settings, request=request,
                                 response=response, references=state.references,
                                 client_address=address, from_gateway=from_gateway)
        if auth_error is not None:
            context.extra["auth_error"] = auth_error
        if self.context_factory is not None:
            result = self.context_factory(context)
            if inspect.isawaitable(result):
                await result
        return context

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        headers = {k.lower(): str(v) for k, v in params.items()
                   if isinstance(k, str) and k.lower() in ("authorization", "x-api-key")}
        if headers:
            try:
                context.caller = await authenticate_request(
                    headers, self.app_state.verifier, api_key_resolver=self.api_key_resolver)
            except (UnauthenticatedError, ServiceUnavailableError) as error:
                raise ConnectionRejectionError({"message": error.message}) from None
            context.extra.pop("auth_error", None)
        elif "auth_error" in context.extra:
            raise ConnectionRejectionError({"message": context.extra["auth_error"].message})
        return UNSET  # type: ignore[no-any-return]

    async def process_result(self, request: Request, result: ExecutionResult
                             ) -> GraphQLHTTPResponse:
        state = self.app_state
        if result.errors and not all((e.extensions or {}).get("code") for e in result.errors):
            # Safety net: an error that bypassed TributaryErrorExtension still gets a code and
            # loses any internal detail.
            result.errors = [e if (e.extensions or {}).get("code") else format_error(
                e, pre_execution=result.data is None, has_data=result.data is not None)
                for e in result.errors]
        for error in result.errors or ():
            code = (error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR")
            state.metrics.graphql_errors.labels(state.settings.service_name, code).inc()
        return await super().process_result(request, result)


class _BodyTooLargeError(Exception):
    pass


class _BodyLimitMiddleware:
    """413 (JSON GraphQL error) for /graphql bodies above `max_body_size`, even when chunked."""

    def __init__(self, app: ASGIApp, *, max_body_size: int, paths: Sequence[str]) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self.paths = tuple(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        too_large = graphql_error_response(
            f"Request body exceeds {self.max_body_size} bytes", PAYLOAD_TOO_LARGE, 413)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_body_size or declared < 0:
                    if declared < 0:
                        too_large = graphql_error_response("Invalid Content-Length", BAD_REQUEST,
                                                           400)
                    await too_large(scope, receive, send)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_size:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if not started:
                await too_large(scope, receive, send)


class _ObservabilityMiddleware:
    """Request id in/out, one span per request, access logs, metrics, opaque 500s."""

    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = sanitize_request_id(headers.get("x-request-id"))
        service = self.state.settings.service_name
        rid_token = request_id_var.set(request_id)
        svc_token = service_var.set(service)
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        method = scope.get("method", "WS")
        route = path if path in ("/graphql", *_QUIET_PATHS) else "other"
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        parent = propagate.extract(headers)
        if self.state.tracing:
            traced = self.state.tracer.start_as_current_span(f"{method} {route}",
                                                             kind=SpanKind.SERVER, context=parent)
        else:
            # No exporter: recording spans nobody reads cost ~5% of a small request. The
            # caller's span, if any, is made current so that log lines still carry its trace id.
            traced = trace.use_span(trace.get_current_span(parent), end_on_exit=False)
        begin = time.perf_counter()
        with traced as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", path)
            span.set_attribute("tributary.request_id", request_id)
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled error serving %s %s", method, path)
                span.set_status(Status(StatusCode.ERROR))
                if scope["type"] == "http" and not started:
                    await graphql_error_response(INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR",
                                                 500)(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - begin
                span.set_attribute("http.response.status_code", status)
                if scope["type"] == "http":
                    metrics = self.state.metrics
                    metrics.requests.labels(service, method, route, str(status)).inc()
                    metrics.latency.labels(service, route).observe(elapsed)
                    if path not in _QUIET_PATHS:
                        log.info("request", extra={"method": method, "path": path,
                                                   "status": status,
                                                   "duration_ms": round(elapsed * 1000, 2)})
                request_id_var.reset(rid_token)
                service_var.reset(svc_token)


async def _call_hook(hook: Hook, app: Starlette) -> None:
    if len(inspect.signature(hook).parameters) == 0:
        await hook()
    else:
        await hook(app)


async def _check(name: str, probe: Callable[[], Awaitable[Any]]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), _READY_TIMEOUT)
        return name, "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return name, f"error: {type(error).__name__}"


async def _live(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _ready(request: Request) -> Response:
    state = request.app.state
    checks = dict(await asyncio.gather(_check("database", state.database.ping),
                                       _check("kv", state.kv.ping)))
    ok = all(v == "ok" for v in checks.values()) and not state.draining
    status = "ok" if ok else ("draining" if state.draining else "unavailable")
    return JSONResponse({"status": status, "service": state.settings.service_name,
                         "checks": checks}, status_code=200 if ok else 503)


async def _metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


_MAX_CACHED_QUERY = 20_000


@dataclass(slots=True)
class _CachedOperation:
    document: DocumentNode
    # validation errors per (schema, rules): the same document may reach several schemas. The
    # schema itself is the key (not its id, which a new schema could reuse once it is freed).
    validated: dict[tuple[GraphQLSchema, tuple[Any, ...]], list[GraphQLError]] = field(
        default_factory=dict)


_operations: OrderedDict[tuple[str, tuple[tuple[str, Any], ...]], _CachedOperation] = OrderedDict()


class _OperationCache(SchemaExtension):
    """Parses and validates each query text once (an LRU shared by the process).

    Unlike strawberry's ParserCache it never parses inside the hook: a miss leaves parsing to
    strawberry, whose syntax errors then go through TributaryErrorExtension like any other, and
    only documents that parsed are kept. Validation results live on the cached entry, keyed by
    schema and rules, so a hit costs two dictionary lookups instead of hashing the whole
    document tree (what strawberry's ValidationCache does on every request).
    """

    def __init__(self) -> None:
        super().__init__()
        self._entry: _CachedOperation | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if not query or len(query) > _MAX_CACHED_QUERY:
            yield
            return
        key = (query, tuple(sorted(context.parse_options.items())))
        entry = _operations.get(key)
        if entry is not None:
            _operations.move_to_end(key)
            context.graphql_document = entry.document
            self._entry = entry
            yield
            return
        yield
        if context.graphql_document is not None:
            self._entry = _operations[key] = _CachedOperation(context.graphql_document)
            if len(_operations) > _OPERATION_CACHE_SIZE:
                _operations.popitem(last=False)

    def on_validate(self) -> Iterator[None]:
        context, entry = self.execution_context, self._entry
        if entry is None or entry.document is not context.graphql_document:
            yield  # not from the cache: strawberry validates as usual
            return
        key = (context.schema._schema, tuple(context.validation_rules))
        errors = entry.validated.get(key)
        if errors is None:
            errors = entry.validated[key] = validate_document(
                context.schema._schema, entry.document, context.validation_rules)
        context.pre_execution_errors = errors
        yield


def _prepare_schema(schema: BaseSchema, settings: ServiceSettings) -> BaseSchema:
    # A shallow copy: the subgraph's module-level schema stays untouched, so apps with
    # different settings (tests, dev) can share it.
    prepared = copy.copy(schema)
    extensions = list(getattr(schema, "extensions", ()))
    if TributaryErrorExtension not in extensions:
        extensions.append(TributaryErrorExtension)
    extensions.append(ApiKeyScopes)
    extensions.append(GatewayOnlyFields)
    if not settings.introspection and DisableIntrospection not in extensions:
        extensions.append(DisableIntrospection)
    # Clients repeat the same few operations; validation dominated a small query's cost
    # (~70% in a profile), and parsing was next (~17% of a tip's CPU): both are done once per
    # query text.
    extensions.append(_OperationCache)
    prepared.extensions = tuple(extensions)  # type: ignore[attr-defined]
    return prepared


def create_subgraph_app(
    *,
    settings: ServiceSettings,
    schema: BaseSchema,
    database: Database,
    kv: KeyValue,
    verifier: TokenVerifier | None,
    context_factory: ContextFactory | None = None,
    on_startup: Iterable[Hook] = (),
    on_shutdown: Iterable[Hook] = (),
    extra_routes: Iterable[BaseRoute] = (),
    api_key_resolver: ApiKeyResolver | None = None,
    background: Iterable[Hook] = (),
    events: EventsRuntime | None = None,
    internal_routes: Iterable[InternalRoute] = (),
    peers: Peers | None = None,
) -> Starlette:
    """A Starlette app serving one subgraph. Hooks are `async def hook(app)` (or no-arg).

    `background` coroutines start after `on_startup` and are cancelled at shutdown.
    `events` (an EventsRuntime) relays the outbox and runs the in-process job worker.
    The app owns `database` and `kv`: they are closed when it shuts down.
    `internal_routes` are served on the internal port (`settings.internal_port`), never on
    the public one; API keys default to identity's verdict when identity is a peer.
    A `verifier` without revocations gets the shared ones on `kv`'s server (`shared.revocation`).
    """
    configure_logging(settings.log_level)
    if verifier is not None and verifier.revocations is None:
        verifier.revocations = TokenRevocations(revocation_kv(kv))
    peers = peers or Peers.from_settings(settings)
    if api_key_resolver is None:
        api_key_resolver = peers.api_keys
    internal_routes = list(internal_routes)
    internal_server = InternalServer(
        app=internal_app(internal_routes, keyring=peers.keyring),
        host=settings.internal_host, port=settings.internal_port or 0,
    ) if internal_routes else None
    startup_hooks, shutdown_hooks, background_jobs = (list(on_startup), list(on_shutdown),
                                                      list(background))
    if events is not None:
        # After the subgraph's own startup (it may run migrations that create the outbox).
        startup_hooks.append(events.start)
        shutdown_hooks.insert(0, events.stop)
    tracer_provider = create_tracer_provider(settings.service_name, settings.otlp_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        token = service_var.set(settings.service_name)
        for hook in startup_hooks:
            await _call_hook(hook, app)
        if internal_server is not None:
            # After the startup hooks: internal callers expect a migrated database.
            app.state.internal_url = await internal_server.start()
        if settings.environment != "test":
            # Everything loaded so far (schema, models, modules) lives as long as the process:
            # moved out of the collector's sight, full collections stop walking it and stop
            # pausing requests for tens of milliseconds. Not in tests, which start many apps
            # in one process and would keep each one's garbage.
            gc.collect()
            gc.freeze()
        tasks = [asyncio.create_task(_call_hook(job, app)) for job in background_jobs]
        log.info("started", extra={"port": settings.port})
        try:
            yield
        finally:
            app.state.draining = True
            if internal_server is not None:
                await internal_server.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for hook in shutdown_hooks:
                try:
                    await _call_hook(hook, app)
                except Exception:
                    log.exception("shutdown hook failed")
            await peers.client.close()
            await database.dispose()
            await kv.close()
            tracer_provider.shutdown()
            log.info("stopped")
            service_var.reset(token)

    routes: list[BaseRoute] = [
        Route("/health/live", _live, methods=["GET"]),
        Route("/health/ready", _ready, methods=["GET"]),
        Route("/metrics", _metrics, methods=["GET"]),
        *([asset_route()] if settings.graphiql else []),
        *extra_routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    state = app.state
    state.settings, state.database, state.kv, state.verifier = settings, database, kv, verifier
    state.peers, state.references = peers, peers.references
    state.internal_url = None
    state.metrics = ServiceMetrics.create()
    state.tracer_provider = tracer_provider
    state.tracer = tracer_for(tracer_provider)
    state.tracing = bool(settings.otlp_endpoint)  # tests may switch it on with their own exporter
    state.draining = False
    view = _SubgraphGraphQL(_prepare_schema(schema, settings), app_state=state,
                            graphiql=settings.graphiql, context_factory=context_factory,
                            api_key_resolver=api_key_resolver)
    state.graphql = view
    app.router.routes.append(Route("/graphql", view))
    app.router.routes.append(WebSocketRoute("/graphql", view))
    app.user_middleware = [
        Middleware(_ObservabilityMiddleware, state=state),
        Middleware(_BodyLimitMiddleware, max_body_size=settings.max_body_size,
                   paths=["/graphql"]),
    ]
    return app

