"""supergraph.yaml loading and `{ _service { sdl } }` fetching from a real HTTP subgraph."""

from __future__ import annotations

import json

import pytest
import strawberry
from aiohttp import web

from gateway.compose import (
    ConfigError,
    SdlFetchError,
    SubgraphConfig,
    compose,
    fetch_sdl,
    load_config,
    load_sources,
)


@strawberry.federation.type(keys=["id"])
class Book:
    id: strawberry.ID
    title: str


@strawberry.type
class Query:
    @strawberry.field
    def books(self) -> list[Book]:
        return []


BOOKS = strawberry.federation.Schema(query=Query)


async def serve(handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/graphql", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/graphql"


async def strawberry_handler(request: web.Request) -> web.Response:
    body = await request.json()
    result = await BOOKS.execute(body["query"])
    payload = {"data": result.data}
    if result.errors:
        payload["errors"] = [{"message": e.message} for e in result.errors]
    return web.json_response(payload)


async def test_fetch_sdl_from_a_running_strawberry_subgraph_composes() -> None:
    runner, url = await serve(strawberry_handler)
    try:
        sdl = await fetch_sdl(url)
        sources = await load_sources(
            [SubgraphConfig(name="books", routing_url=url, introspection_url=url)]
        )
    finally:
        await runner.cleanup()
    assert '@key(fields: "id")' in sdl and "type Book" in sdl
    result = compose(sources)
    assert result.errors == ()
    assert 'type Book\n  @join__type(graph: BOOKS, key: "id")' in result.supergraph_sdl


async def test_fetch_sdl_reports_http_errors_and_bad_payloads() -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def not_graphql(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps({"errors": [{"message": "no _service"}]}))

    runner, url = await serve(broken)
    try:
        with pytest.raises(SdlFetchError, match="HTTP 500"):
            await fetch_sdl(url)
    finally:
        await runner.cleanup()
    runner, url = await serve(not_graphql)
    try:
        with pytest.raises(SdlFetchError, match="no `_service.sdl`"):
            await fetch_sdl(url)
    finally:
        await runner.cleanup()
    with pytest.raises(SdlFetchError):
        await fetch_sdl(url, timeout=2)  # the server is gone now: connection refused


def test_load_config_resolves_files_relative_to_the_config(tmp_path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "a.graphql").write_text("type Query { a: Int }")
    config = tmp_path / "supergraph.yaml"
    config.write_text(
        "subgraphs:\n"
        "  a:\n    routing_url: http://127.0.0.1:4101/graphql\n    schema:\n      file: schema/a.graphql\n"
        "  b:\n    routing_url: http://127.0.0.1:4102/graphql\n"
        "    schema:\n      subgraph_url: http://127.0.0.1:4102/graphql\n"
    )
    assert load_config(config) == [
        SubgraphConfig(
            name="a",
            routing_url="http://127.0.0.1:4101/graphql",
            schema_file=tmp_path / "schema" / "a.graphql",
        ),
        SubgraphConfig(
            name="b",
            routing_url="http://127.0.0.1:4102/graphql",
            introspection_url="http://127.0.0.1:4102/graphql",
        ),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("subgraphs: {}\n", "non-empty `subgraphs:`"),
        ("subgraphs:\n  a: {schema: {file: a.graphql}}\n", "`routing_url` is required"),
        ("subgraphs: [\n", "not valid YAML"),
        ("subgraphs:\n  a: 3\n", "expected a mapping"),
    ],
)
def test_load_config_rejects_malformed_files(tmp_path, text, message) -> None:
    config = tmp_path / "supergraph.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_load_config_missing_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
