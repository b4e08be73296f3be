"""The legacy graphql-ws protocol and GraphQL over SSE reach the same subscriptions."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.gateway.subscriptions._clients import WsClient, iterate_sse, read_sse
from tests.gateway.subscriptions._subgraphs import Recorder
from tests.gateway.subscriptions.conftest import Served
from tests.gateway.subscriptions.test_transport_ws import MESSAGES, post_message


async def test_legacy_graphql_ws(gateway: Served, recorder: Recorder):
    client = await WsClient.open(gateway.ws, subprotocol="graphql-ws")
    assert client.connection.subprotocol == "graphql-ws"
    assert await client.init({"authToken": "legacy-token"}) == {"type": "connection_ack"}
    assert await client.receive() == {"type": "ka"}
    await client.send({"id": "1", "type": "start", "payload": {"query": MESSAGES, "variables": {"room": "lobby"}}})
    await recorder.wait_for(lambda: recorder.active == 1)
    assert recorder.init_payloads[-1]["authorization"] == "Bearer legacy-token"

    await post_message(gateway, "old", author="u2")
    data = await client.receive_skipping("ka")
    assert data == {
        "id": "1",
        "type": "data",
        "payload": {"data": {"messageAdded": {"id": "m-old", "text": "old",
                                              "author": {"id": "u2", "name": "Brook", "handle": "brook"}}}},
    }
    await client.send({"id": "1", "type": "stop"})
    await recorder.wait_for(lambda: recorder.active == 0)

    await client.send({"id": "2", "type": "start", "payload": {"query": "subscription { countdown(start: 1) }"}})
    assert [await client.receive_skipping("ka") for _ in range(3)] == [
        {"id": "2", "type": "data", "payload": {"data": {"countdown": 1}}},
        {"id": "2", "type": "data", "payload": {"data": {"countdown": 0}}},
        {"id": "2", "type": "complete"},
    ]
    await client.send({"id": "3", "type": "start", "payload": {"query": "subscription { missing }"}})
    error = await client.receive_skipping("ka")
    assert error["type"] == "error" and error["id"] == "3"
    assert error["payload"]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    await client.send({"id": "4", "type": "start", "payload": {"query": MESSAGES, "variables": {"room": "x"}}})
    await recorder.wait_for(lambda: recorder.active == 1)
    await client.send({"type": "connection_terminate"})
    assert (await client.closed())[0] == 1000
    await recorder.wait_for(lambda: recorder.active == 0)


async def test_legacy_subgraph_failure_is_data_with_errors_then_complete(gateway: Served, chat: Served, recorder: Recorder):
    client = await WsClient.open(gateway.ws, subprotocol="graphql-ws")
    await client.init()
    await client.send({"id": "1", "type": "start", "payload": {"query": MESSAGES, "variables": {"room": "lobby"}}})
    await recorder.wait_for(lambda: recorder.active == 1)
    await chat.stop()
    data = await client.receive_skipping("ka")
    assert data["type"] == "data" and data["payload"]["data"] is None
    assert data["payload"]["errors"][0]["extensions"]["serviceName"] == "chat"
    assert await client.receive_skipping("ka") == {"id": "1", "type": "complete"}
    await client.close()


async def test_sse_stream_endpoint(gateway: Served):
    async with httpx.AsyncClient(timeout=5) as http, http.stream(
        "POST", f"{gateway.base}/graphql/stream", json={"query": "subscription { countdown(start: 2) }"},
        headers={"accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = await read_sse(response)
    assert events == [
        ("next", {"data": {"countdown": 2}}),
        ("next", {"data": {"countdown": 1}}),
        ("next", {"data": {"countdown": 0}}),
        ("complete", None),
    ]


async def test_sse_on_graphql_with_accept_header_and_entity_fields(gateway: Served, recorder: Recorder):
    params = {"query": MESSAGES, "variables": json.dumps({"room": "lobby"})}
    async with httpx.AsyncClient(timeout=5) as http, http.stream(
        "GET", f"{gateway.base}/graphql", params=params,
        headers={"accept": "text/event-stream", "authorization": "Bearer sse-token"},
    ) as response:
        assert response.status_code == 200
        events = iterate_sse(response)
        await recorder.wait_for(lambda: recorder.active == 1)
        await post_message(gateway, "streamed", author="u1")
        kind, data = await asyncio.wait_for(events.__anext__(), 5)
        assert kind == "next"
        assert data == {"data": {"messageAdded": {"id": "m-streamed", "text": "streamed",
                                                  "author": {"id": "u1", "name": "Ada", "handle": "ada"}}}}
        assert recorder.init_payloads[-1]["authorization"] == "Bearer sse-token"
        assert recorder.entity_headers[-1] == "Bearer sse-token"
    # the client went away: its upstream subscription is closed
    await recorder.wait_for(lambda: recorder.active == 0)


async def test_sse_errors(gateway: Served, chat: Served, recorder: Recorder):
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.post(f"{gateway.base}/graphql/stream", json={"query": "subscription { nope }"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        response = await http.get(f"{gateway.base}/graphql/stream",
                                  params={"query": 'mutation { postMessage(room: "r", text: "t", authorId: "u1") { id } }'})
        assert response.status_code == 405
        response = await http.post(f"{gateway.base}/graphql/stream", content=b"{", headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        async with http.stream(
            "POST", f"{gateway.base}/graphql/stream", json={"query": MESSAGES, "variables": {"room": "lobby"}}
        ) as response:
            events = iterate_sse(response)
            await recorder.wait_for(lambda: recorder.active == 1)
            await chat.stop()
            kind, data = await asyncio.wait_for(events.__anext__(), 5)
            assert kind == "next" and data["data"] is None
            assert data["errors"][0]["extensions"] == {"code": "SUBGRAPH_FETCH_FAILED", "serviceName": "chat"}
            assert await asyncio.wait_for(events.__anext__(), 5) == ("complete", None)
