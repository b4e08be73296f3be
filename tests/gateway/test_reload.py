"""The file watcher swaps the supergraph while serving, without failing requests in flight."""

from __future__ import annotations

import asyncio
import logging
import os

from gateway.config import GatewaySettings
from gateway.server import create_app
from tests.gateway._servers import Gate
from tests.gateway.conftest import _client_for, post
from tests.gateway.fixtures.registry import read_supergraph
from tests.gateway.fixtures.shop.data import STATE


async def _until(predicate, what: str) -> None:
    for _ in range(1000):  # a bound, not a timing assertion: fail instead of hanging
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


def _write(path, text: str, stamp: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (stamp, stamp))  # a distinct mtime even on coarse-grained filesystems


async def test_reload_swaps_schema_and_finishes_requests_in_flight(tmp_path, shop_server, media_server, caplog):
    STATE.reset()
    shop_server.reset()
    media_server.reset()
    path = tmp_path / "supergraph.graphql"
    _write(path, read_supergraph("shop"), 1_000_000)
    settings = GatewaySettings(
        supergraph=str(path),
        subgraph_urls={**shop_server.urls(), **media_server.urls()},
        poll_interval_seconds=0.02,
    )
    app = create_app(settings)
    gateway = app.state.gateway
    async with app.router.lifespan_context(app), _client_for(app) as client:
        gate = shop_server.gates["reviews"] = Gate(closed=True)
        in_flight = asyncio.create_task(post(client, '{ product(upc: "1") { name reviews { body } } }'))
        await _until(lambda: gate.waiting == 1, "the request to reach reviews")
        old_engine = gateway.engine

        _write(path, read_supergraph("media"), 2_000_000)
        await _until(lambda: gateway.engine is not old_engine, "the new supergraph")

        assert await post(client, '{ mediaItem(id: "b2") { title } }') == {"data": {"mediaItem": {"title": "Neuromancer"}}}
        stale = await client.post("/graphql", json={"query": "{ topProducts { upc } }"})
        assert stale.status_code == 400
        assert stale.json()["errors"][0]["message"] == "Cannot query field 'topProducts' on type 'Query'."

        gate.event.set()
        assert await in_flight == {
            "data": {"product": {"name": "Table", "reviews": [{"body": "Love it!"}, {"body": "Too expensive."}]}}
        }

        # a broken file is logged and ignored: the last good supergraph keeps serving
        media_engine = gateway.engine
        with caplog.at_level(logging.ERROR, logger="tributary.gateway"):
            _write(path, "this is not a supergraph", 3_000_000)
            await _until(
                lambda: any("reload failed" in r.getMessage() for r in caplog.records), "the failed reload"
            )
        assert gateway.engine is media_engine
        assert await post(client, '{ mediaItem(id: "m1") { title } }') == {"data": {"mediaItem": {"title": "Alien"}}}

        # and a good file after the broken one is picked up again
        _write(path, read_supergraph("shop"), 4_000_000)
        await _until(lambda: gateway.engine is not media_engine, "the shop supergraph again")
        assert await post(client, '{ product(upc: "3") { name } }') == {"data": {"product": {"name": "Chair"}}}


async def test_health_before_any_supergraph(tmp_path):
    app = create_app(GatewaySettings())
    async with _client_for(app) as client:
        health = await client.get("/health")
        graphql = await client.post("/graphql", json={"query": "{ __typename }"})
    assert (health.status_code, health.json()) == (503, {"status": "starting"})
    assert graphql.status_code == 503
    assert graphql.json() == {
        "errors": [{"message": "No supergraph loaded yet.", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]
    }
