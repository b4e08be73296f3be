"""graphql-transport-ws through the gateway: events with entity fields, upstream lifecycle, errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.executor.subscribe import SubscriptionError, SubscriptionHub
from tests.gateway.subscriptions._clients import WsClient
from tests.gateway.subscriptions._subgraphs import Recorder
from tests.gateway.subscriptions.conftest import Served

MESSAGES = """
subscription Chat($room: String!) {
  messageAdded(room: $room) { id text author { id name handle } }
}
"""


async def post_message(gateway: Served, text: str, author: str = "u1", room: str = "lobby") -> dict:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{gateway.base}/graphql",
            json={
                "query": "mutation($room: String!, $text: String!, $a: ID!) "
                "{ postMessage(room: $room, text: $text, authorId: $a) { id } }",
                "variables": {"room": room, "text": text, "a": author},
            },
        )
    return response.json()


async def test_event_carries_fields_resolved_from_a_second_subgraph(gateway: Served, recorder: Recorder):
    client = await WsClient.open(gateway.ws)
    assert await client.init({"authorization": "Bearer token-1"}) == {"type": "connection_ack"}
    await client.subscribe("s1", MESSAGES, {"room": "lobby"})
    await recorder.wait_for(lambda: recorder.active == 1)

    assert await post_message(gateway, "hello", author="u1") == {"data": {"postMessage": {"id": "m-hello"}}}
    first = await client.receive()
    assert first == {
        "id": "s1",
        "type": "next",
        "payload": {
            "data": {
                "messageAdded": {
                    "id": "m-hello",
                    "text": "hello",
                    "author": {"id": "u1", "name": "Ada", "handle": "ada"},
                }
            }
        },
    }
    await post_message(gateway, "again", author="u2")
    second = await client.receive()
    assert second["payload"]["data"]["messageAdded"]["author"] == {"id": "u2", "name": "Brook", "handle": "brook"}

    # the caller's identity reached the subscription's subgraph and the entity fetches
    assert recorder.init_payloads[-1]["authorization"] == "Bearer token-1"
    assert recorder.entity_headers == ["Bearer token-1", "Bearer token-1"]

    await client.send({"id": "s1", "type": "complete"})
    await recorder.wait_for(lambda: recorder.active == 0)
    assert recorder.closed == ["lobby"]
    # the id is free again after complete
    await client.subscribe("s1", "subscription { countdown(start: 0) }")
    assert await client.receive() == {"id": "s1", "type": "next", "payload": {"data": {"countdown": 0}}}
    assert await client.receive() == {"id": "s1", "type": "complete"}
    await client.close()


async def test_finite_subscription_completes(gateway: Served):
    client = await WsClient.open(gateway.ws)
    await client.init()
    await client.subscribe("c", "subscription { countdown(start: 2) }")
    values = [(await client.receive())["payload"]["data"]["countdown"] for _ in range(3)]
    assert values == [2, 1, 0]
    assert await client.receive() == {"id": "c", "type": "complete"}
    await client.close()


async def test_queries_and_mutations_answer_once_then_complete(gateway: Served, recorder: Recorder):
    client = await WsClient.open(gateway.ws)
    await client.init()
    await client.subscribe("q", '{ rooms user(id: "u2") { name } }')
    assert await client.receive() == {
        "id": "q", "type": "next", "payload": {"data": {"rooms": ["lobby"], "user": {"name": "Brook"}}}
    }
    assert await client.receive() == {"id": "q", "type": "complete"}
    await client.subscribe("m", 'mutation { postMessage(room: "r", text: "t", authorId: "u1") { text author { name } } }')
    assert await client.receive() == {
        "id": "m", "type": "next", "payload": {"data": {"postMessage": {"text": "t", "author": {"name": "Ada"}}}}
    }
    assert await client.receive() == {"id": "m", "type": "complete"}
    await client.close()


async def test_invalid_operations_get_an_error_message(gateway: Served):
    client = await WsClient.open(gateway.ws)
    await client.init()
    await client.subscribe("bad", "subscription { nope }")
    message = await client.receive()
    assert message["type"] == "error" and message["id"] == "bad"
    assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await client.subscribe("vars", MESSAGES, {"room": 5})
    message = await client.receive()
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # the connection survives operation errors
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    await client.close()


async def test_closed_client_leaves_no_upstream_subscription(gateway: Served, recorder: Recorder):
    client = await WsClient.open(gateway.ws)
    await client.init()
    await client.subscribe("a", MESSAGES, {"room": "lobby"})
    await client.subscribe("b", MESSAGES, {"room": "kitchen"})
    await recorder.wait_for(lambda: recorder.active == 2)
    await client.close()
    await recorder.wait_for(lambda: recorder.active == 0)
    assert sorted(recorder.closed) == ["kitchen", "lobby"]
    assert gateway.app.state.realtime.upstream.open_count == 0


async def test_subgraph_going_away_ends_the_subscription_with_an_error(
    gateway: Served, chat: Served, recorder: Recorder
):
    client = await WsClient.open(gateway.ws)
    await client.init()
    await client.subscribe("s", MESSAGES, {"room": "lobby"})
    await recorder.wait_for(lambda: recorder.active == 1)
    await chat.stop()
    message = await client.receive()
    assert message["type"] == "error" and message["id"] == "s"
    error = message["payload"][0]
    assert error["extensions"] == {"code": "SUBGRAPH_FETCH_FAILED", "serviceName": "chat"}
    assert "chat" in error["message"]
    # a new subscription fails clearly too, since the subgraph is unreachable
    await client.subscribe("t", MESSAGES, {"room": "lobby"})
    message = await client.receive()
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "SUBGRAPH_FETCH_FAILED"
    assert gateway.app.state.realtime.upstream.open_count == 0
    await client.close()


async def test_identical_subscriptions_share_one_upstream(gateway: Served, recorder: Recorder):
    hub = gateway.app.state.realtime.hub
    same = [await WsClient.open(gateway.ws) for _ in range(2)]
    for client in same:
        await client.init({"authorization": "Bearer shared"})
        await client.subscribe("s", MESSAGES, {"room": "lobby"})
    other = await WsClient.open(gateway.ws)
    await other.init({"authorization": "Bearer someone-else"})
    await other.subscribe("s", MESSAGES, {"room": "lobby"})
    await recorder.wait_for(lambda: recorder.active == 2)  # one for "shared", one for "someone-else"
    assert hub.running == 2

    await post_message(gateway, "fan", author="u2")
    results = [await client.receive() for client in (*same, other)]
    assert all(r["payload"]["data"]["messageAdded"]["author"]["name"] == "Brook" for r in results)
    # one entity fetch per identity, not per client
    assert sorted(recorder.entity_headers) == ["Bearer shared", "Bearer someone-else"]

    await same[0].close()
    await post_message(gateway, "still", author="u1")
    assert (await same[1].receive())["payload"]["data"]["messageAdded"]["text"] == "still"
    assert recorder.active == 2
    await same[1].close()
    await recorder.wait_for(lambda: recorder.active == 1)
    await other.close()
    await recorder.wait_for(lambda: recorder.active == 0)
    assert hub.running == 0


async def test_a_reader_that_falls_behind_is_ended_without_slowing_the_others(gateway: Served, recorder: Recorder):
    realtime = gateway.app.state.realtime
    hub = SubscriptionHub(realtime.upstream, queue_size=2)
    engine = realtime.gateway.engine
    prepared = engine.prepare(MESSAGES, None)
    fast = hub.stream(engine, prepared, {"room": "lobby"}, headers={}, init_payload={})
    slow = hub.stream(engine, prepared, {"room": "lobby"}, headers={}, init_payload={})
    received: list[str] = []
    arrived = asyncio.Condition()

    async def read_fast() -> None:
        async for result in fast:
            async with arrived:
                received.append(result["data"]["messageAdded"]["text"])
                arrived.notify_all()

    reader = asyncio.create_task(read_fast())
    slow_first = asyncio.create_task(slow.__anext__())
    await recorder.wait_for(lambda: recorder.active == 1)
    assert hub.running == 1
    for number in range(1, 5):
        await post_message(gateway, f"e{number}")
        async with arrived:
            await asyncio.wait_for(arrived.wait_for(lambda n=number: len(received) == n), 5)
    assert received == ["e1", "e2", "e3", "e4"]
    assert (await slow_first)["data"]["messageAdded"]["text"] == "e1"
    # e2 and e3 filled the slow reader's queue; e4 ended it
    with pytest.raises(SubscriptionError) as ended:
        await slow.__anext__()
    assert ended.value.errors[0]["extensions"]["code"] == "SLOW_CONSUMER"
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await fast.aclose()
    await recorder.wait_for(lambda: recorder.active == 0)


async def test_a_subgraph_refusing_the_caller_gives_its_reason(gateway: Served, recorder: Recorder):
    client = await WsClient.open(gateway.ws)
    await client.init({"authorization": "Bearer refused"})
    await client.subscribe("s", MESSAGES, {"room": "lobby"})
    message = await client.receive()
    assert message["type"] == "error"
    assert message["payload"] == [{
        "message": "subgraph 'chat' refused the subscription connection (close code 4403: Forbidden)",
        "extensions": {"code": "SUBGRAPH_FETCH_FAILED", "serviceName": "chat"},
    }]
    assert gateway.app.state.realtime.upstream.open_count == 0
    await client.close()
