"""The subgraph app factory over httpx ASGITransport (and a real server for WebSockets)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import strawberry
from httpx_ws import aconnect_ws
from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.auth import SigningKeys, TokenIssuer, TokenVerifier
from shared.config import ServiceSettings, load_settings
from shared.context import RequestContext
from shared.db import create_database
from shared.errors import ConflictError
from shared.redis import MemoryStore, create_kv
from shared.testing import serve_app

ISSUER = TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")


@strawberry.federation.type(keys=["id"])
class Thing:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Thing:
        return Thing(id=id, name=f"thing {id}")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    def me(self, info: strawberry.Info[RequestContext, None]) -> str | None:
        return info.context.caller.user_id

    @strawberry.field
    def request_id(self, info: strawberry.Info[RequestContext, None]) -> str:
        return info.context.request_id

    @strawberry.field
    def taken(self) -> str:
        raise ConflictError("handle already taken", extensions={"field": "handle"})

    @strawberry.field
    def boom(self) -> str:
        raise KeyError("/etc/secret/path")

    @strawberry.field
    def extra(self, info: strawberry.Info[RequestContext, None]) -> str:
        return info.context.extra["tenant"]


GATES: dict[str, asyncio.Event] = {}


@strawberry.type
class Slow:
    @strawberry.field
    async def slow(self) -> str:
        GATES["started"].set()
        await GATES["release"].wait()
        return "done"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def echo(self, text: str) -> str:
        return text


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self, to: int, info: strawberry.Info[RequestContext, None]
                    ) -> AsyncIterator[str]:
        for i in range(to):
            yield f"{i}:{info.context.caller.user_id}"


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, subscription=Subscription,
                                      types=[Thing])


def make_settings(tmp_path: Path, **overrides: object) -> ServiceSettings:
    return load_settings(ServiceSettings, service_name="demo", port=0,
                         data_dir=str(tmp_path), **overrides)


def make_app(tmp_path: Path, *, database_url: str | None = None, **overrides: object) -> Starlette:
    settings = make_settings(tmp_path, **overrides)
    return create_subgraph_app(
        settings=settings, schema=schema,
        database=create_database(database_url or settings.database_url),
        kv=create_kv(None, prefix="demo:", store=MemoryStore()),
        verifier=TokenVerifier.for_issuer(ISSUER),
        context_factory=lambda ctx: ctx.extra.update(tenant="acme"),
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(tmp_path)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


async def gql(client: httpx.AsyncClient, query: str, **kwargs: object) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, **kwargs})


async def test_query_and_context(client: httpx.AsyncClient) -> None:
    response = await gql(client, "{ hello me extra }")
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "world", "me": None, "extra": "acme"}}


async def test_parsed_documents_are_reused_and_syntax_errors_are_not_cached(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import strawberry.schema.schema as strawberry_schema

    parsed: list[str] = []
    real_parse = strawberry_schema.parse

    def counting_parse(source: str, **options: object) -> object:
        parsed.append(source)
        return real_parse(source, **options)

    import shared.app as app_module

    validated: list[object] = []
    real_validate = app_module.validate_document

    def counting_validate(schema: object, document: object, rules: object) -> object:
        validated.append(document)
        return real_validate(schema, document, rules)  # type: ignore[arg-type]

    monkeypatch.setattr(strawberry_schema, "parse", counting_parse)
    monkeypatch.setattr(app_module, "validate_document", counting_validate)
    query = "{ hello extra } # parse cache " + str(id(parsed))
    for _ in range(3):
        assert (await gql(client, query)).json() == {"data": {"hello": "world", "extra": "acme"}}
    broken = "{ hello # parse cache " + str(id(parsed))
    for _ in range(2):
        error = (await gql(client, broken)).json()["errors"][0]
        assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    invalid = "{ nope } # parse cache " + str(id(parsed))
    for _ in range(2):
        error = (await gql(client, invalid)).json()["errors"][0]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert parsed == [query, broken, broken, invalid]
    assert len(validated) == 2  # once per valid-syntax text: the query and the invalid one


async def test_get_query_and_federation_sdl(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ hello }"})
    assert response.json() == {"data": {"hello": "world"}}
    sdl = (await gql(client, "{ _service { sdl } }")).json()["data"]["_service"]["sdl"]
    assert '@key(fields: "id")' in sdl
    entities = await gql(client, 'query { _entities(representations: [{__typename: "Thing", '
                                 'id: "7"}]) { ... on Thing { name } } }')
    assert entities.json() == {"data": {"_entities": [{"name": "thing 7"}]}}


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "kv": "ok"}
    await gql(client, "{ taken }")
    metrics = (await client.get("/metrics")).text
    assert re.search(r'tributary_http_requests_total\{.*route="/graphql",.*status="200"\} 1\.0',
                     metrics)
    assert 'tributary_graphql_errors_total{code="CONFLICT",service="demo"} 1.0' in metrics


async def test_ready_reports_a_dead_database(tmp_path: Path) -> None:
    app = make_app(tmp_path, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("error")
    assert ready.json()["checks"]["kv"] == "ok"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.post("/graphql", json={"query": "{ requestId }"},
                              headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    assert given.json()["data"]["requestId"] == "abc-123"
    fresh = await gql(client, "{ requestId }")
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    assert fresh.json()["data"]["requestId"] == fresh.headers["x-request-id"]
    hostile = await client.get("/health/live", headers={"x-request-id": "x" * 500})
    assert len(hostile.headers["x-request-id"]) == 32


async def test_error_codes_and_no_stack_traces(client: httpx.AsyncClient,
                                               caplog: pytest.LogCaptureFixture) -> None:
    taken = (await gql(client, "{ taken }")).json()["errors"][0]
    assert taken["message"] == "handle already taken"
    assert taken["extensions"] == {"code": "CONFLICT", "field": "handle"}
    with caplog.at_level(logging.ERROR):
        response = await client.post("/graphql", json={"query": "{ boom }"},
                                     headers={"x-request-id": "req-boom"})
    body = response.text
    assert response.status_code == 200
    assert json.loads(body)["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert json.loads(body)["errors"][0]["message"] == "Internal server error"
    assert "secret" not in body and "Traceback" not in body and "KeyError" not in body
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-boom"]
    assert any(r.exc_info for r in logged)
    parse = (await gql(client, "{ hello ")).json()["errors"][0]["extensions"]["code"]
    assert parse == "GRAPHQL_PARSE_FAILED"
    invalid = (await gql(client, "{ nope }")).json()["errors"][0]["extensions"]["code"]
    assert invalid == "GRAPHQL_VALIDATION_FAILED"
    coerced = await gql(client, "mutation($t: String!) { echo(text: $t) }", variables={"t": 5})
    assert coerced.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"not json at all", "application/json"),
        (b"1", "application/json"),
        (b'"query"', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"query": 5}', "application/json"),
        (b'{"query": "{ hello }", "variables": [1]}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"{}", "application/json"),
        (b"query=x", "text/plain"),
    ],
)
async def test_bad_bodies_are_400_with_json_errors(client: httpx.AsyncClient, content: bytes,
                                                   content_type: str) -> None:
    response = await client.post("/graphql", content=content,
                                 headers={"content-type": content_type})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_huge_body_is_413(client: httpx.AsyncClient) -> None:
    big = {"query": "mutation($t: String!) { echo(text: $t) }", "variables": {"t": "x" * 2_000_000}}
    response = await client.post("/graphql", json=big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted as it streams
        yield b'{"query": "mutation { echo(text: \\"'
        for _ in range(40):
            yield b"y" * 65536
        yield b'\\") }"}'

    streamed = await client.post("/graphql", content=chunks(),
                                 headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    ok = await gql(client, "mutation($t: String!) { echo(text: $t) }",
                   variables={"t": "z" * 900_000})
    assert ok.status_code == 200 and len(ok.json()["data"]["echo"]) == 900_000


async def test_bearer_tokens(client: httpx.AsyncClient) -> None:
    token = ISSUER.issue_access_token(user_id="u42", roles=["USER"])
    me = await client.post("/graphql", json={"query": "{ me }"},
                           headers={"authorization": f"Bearer {token}"})
    assert me.json() == {"data": {"me": "u42"}}
    bad = await client.post("/graphql", json={"query": "{ me }"},
                            headers={"authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    assert bad.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_introspection_and_graphiql_follow_settings(tmp_path: Path) -> None:
    introspect = {"query": "{ __schema { queryType { name } } }"}
    for flag in (True, False):
        app = make_app(tmp_path, introspection=flag, graphiql=flag)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as client:
            result = (await client.post("/graphql", json=introspect)).json()
            page = await client.get("/graphql", headers={"accept": "text/html"})
            sdl = (await client.post("/graphql", json={"query": "{ _service { sdl } }"})).json()
        assert sdl["data"]["_service"]["sdl"]  # the gateway still composes without it
        if flag:
            assert result["data"]["__schema"]["queryType"]["name"] == "Query"
            assert page.status_code == 200 and "graphiql" in page.text.lower()
        else:
            assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert page.status_code == 404


async def test_websocket_subscription_with_connection_params(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    token = ISSUER.issue_access_token(user_id="ws-user", roles=[])
    async with serve_app(app) as base:
        url = base.replace("http", "ws") + "/graphql"
        async with aconnect_ws(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send_json({"type": "connection_init",
                                "payload": {"Authorization": f"Bearer {token}"}})
            assert (await ws.receive_json())["type"] == "connection_ack"
            await ws.send_json({"id": "1", "type": "subscribe",
                                "payload": {"query": "subscription { count(to: 3) }"}})
            got = [await asyncio.wait_for(ws.receive_json(), 5) for _ in range(4)]
        assert [m["payload"]["data"]["count"] for m in got[:3]] == [
            "0:ws-user", "1:ws-user", "2:ws-user"]
        assert got[3] == {"id": "1", "type": "complete"}


async def test_websocket_with_bad_token_is_rejected(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with serve_app(app) as base:
        url = base.replace("http", "ws") + "/graphql"
        async with aconnect_ws(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send_json({"type": "connection_init",
                                "payload": {"Authorization": "Bearer forged"}})
            with pytest.raises(Exception) as exc:
                await asyncio.wait_for(ws.receive_json(), 5)
    assert "4403" in repr(exc.value)


def test_json_log_lines_carry_request_id() -> None:
    from shared.telemetry import JsonFormatter, configure_logging, request_id_var

    configure_logging("INFO")
    token = request_id_var.set("rid-77")
    try:
        record = logging.getLogger("tributary.test").makeRecord(
            "tributary.test", logging.INFO, __file__, 1, "hello %s", ("there",), None,
            extra={"user": "u1"})
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello there"
    assert line["request_id"] == "rid-77" and line["user"] == "u1" and line["level"] == "INFO"


async def test_traces_continue_the_callers_trace(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    app = make_app(tmp_path)
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    app.state.tracing = True
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        with caplog.at_level(logging.INFO, logger="tributary.app"):
            await client.post("/graphql", json={"query": "{ hello }"}, headers={
                "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01", "x-request-id": "traced"})
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /graphql"
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.attributes["tributary.request_id"] == "traced"
    assert span.attributes["http.response.status_code"] == 200
    access = [r for r in caplog.records if r.getMessage() == "request"]
    assert access and access[0].trace_id == trace_id and access[0].status == 200


async def test_without_an_exporter_no_spans_are_recorded_but_logs_keep_the_trace(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    app = make_app(tmp_path)  # no OTLP endpoint configured
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        with caplog.at_level(logging.INFO, logger="tributary.app"):
            await client.post("/graphql", json={"query": "{ hello }"}, headers={
                "traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})
            await client.post("/graphql", json={"query": "{ hello }"})
    assert exporter.get_finished_spans() == ()
    access = [r for r in caplog.records if r.getMessage() == "request"]
    assert [getattr(r, "trace_id", None) for r in access] == [trace_id, None]


async def test_errors_that_bypass_the_extension_still_get_codes(tmp_path: Path) -> None:
    from strawberry.extensions import ParserCache

    # ParserCache raises syntax errors outside the operation hook; the view catches them.
    cached = strawberry.federation.Schema(query=Query, extensions=[lambda: ParserCache()])
    settings = make_settings(tmp_path)
    app = create_subgraph_app(settings=settings, schema=cached,
                              database=create_database(settings.database_url),
                              kv=create_kv(None, prefix="demo:", store=MemoryStore()),
                              verifier=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        for _ in range(2):  # second time from the cache
            error = (await gql(client, "{ hello ")).json()["errors"][0]
            assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_mutation_over_get_and_batches_are_refused(client: httpx.AsyncClient) -> None:
    by_get = await client.get("/graphql", params={"query": 'mutation { echo(text: "x") }'})
    assert by_get.status_code in (400, 405)
    assert by_get.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    batch = await client.post("/graphql", json=[{"query": "{ hello }"}, {"query": "{ hello }"}])
    assert batch.status_code == 400
    assert batch.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_spans_are_exported_over_otlp_http(tmp_path: Path) -> None:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    received: list[tuple[str, bytes]] = []

    async def collect(request: Request) -> Response:
        received.append((request.headers.get("content-type", ""), await request.body()))
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", collect, methods=["POST"])])
    async with serve_app(collector) as base:
        app = make_app(tmp_path, otlp_endpoint=base)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as client:
            await gql(client, "{ hello }")
        # The exporter posts from its own thread; keep this loop free to serve the collector.
        assert await asyncio.to_thread(app.state.tracer_provider.force_flush, 10_000)
        await asyncio.to_thread(app.state.tracer_provider.shutdown)
    assert received and received[0][0] == "application/x-protobuf"
    assert b"POST /graphql" in received[0][1] and b"demo" in received[0][1]



async def test_graceful_shutdown_finishes_in_flight_requests(tmp_path: Path) -> None:
    import socket

    import uvicorn

    GATES.update(started=asyncio.Event(), release=asyncio.Event())
    stopped: list[str] = []

    async def on_shutdown() -> None:
        stopped.append("hook")

    settings = make_settings(tmp_path)
    app = create_subgraph_app(settings=settings, schema=strawberry.federation.Schema(query=Slow),
                              database=create_database(settings.database_url),
                              kv=create_kv(None, prefix="demo:", store=MemoryStore()),
                              verifier=None, on_shutdown=[on_shutdown])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning",
                                           timeout_graceful_shutdown=10))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"
    async with httpx.AsyncClient() as client:
        request = asyncio.create_task(client.post(url, json={"query": "{ slow }"}))
        await asyncio.wait_for(GATES["started"].wait(), 10)
        server.should_exit = True  # what SIGTERM does
        await asyncio.sleep(0.2)
        assert not stopped  # the app is still up while a request runs
        GATES["release"].set()
        response = await asyncio.wait_for(request, 10)
    await asyncio.wait_for(serving, 10)
    sock.close()
    assert response.json() == {"data": {"slow": "done"}}
    assert stopped == ["hook"]
