"""graphql-transport-ws protocol violations close the socket with the protocol's close codes."""

from __future__ import annotations

import pytest

from tests.gateway.subscriptions._clients import WsClient
from tests.gateway.subscriptions._subgraphs import Recorder
from tests.gateway.subscriptions.conftest import GatewayFactory, Served

COUNTDOWN = "subscription { countdown(start: 1) }"


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        (["not json"], 4400, "Invalid message received"),
        (['{"payload": {}}'], 4400, "Invalid message received"),
        ([{"type": "connection_init"}, {"type": "bogus"}], 4400, "Unexpected message type 'bogus'"),
        ([{"type": "connection_init", "payload": "token"}], 4400, "Invalid connection_init payload: expected an object"),
        ([{"type": "connection_init"}, {"type": "subscribe", "id": 1, "payload": {"query": COUNTDOWN}}], 4400, None),
        ([{"type": "connection_init"}, {"type": "subscribe", "id": "x"}], 4400, None),
        ([{"type": "subscribe", "id": "early", "payload": {"query": COUNTDOWN}}], 4401, "Unauthorized"),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429, "Too many initialisation requests"),
    ],
    ids=["not-json", "no-type", "unknown-type", "bad-init-payload", "numeric-id", "no-payload",
         "subscribe-before-init", "double-init"],
)
async def test_protocol_violations_close_with_the_right_code(gateway: Served, messages, code, reason):
    client = await WsClient.open(gateway.ws)
    for message in messages:
        await client.send(message)
    closed_code, closed_reason = await client.closed()
    assert closed_code == code
    if reason is not None:
        assert closed_reason == reason


async def test_duplicate_subscriber_id_closes_4409(gateway: Served, recorder: Recorder):
    client = await WsClient.open(gateway.ws)
    await client.init()
    query = 'subscription { messageAdded(room: "lobby") { id } }'
    await client.subscribe("same", query)
    await recorder.wait_for(lambda: recorder.active == 1)
    await client.subscribe("same", query)
    assert await client.closed() == (4409, "Subscriber for same already exists")
    # closing for a protocol error still tears the upstream down
    await recorder.wait_for(lambda: recorder.active == 0)


async def test_missing_connection_init_times_out_with_4408(make_gateway: GatewayFactory):
    gateway = await make_gateway(subscription_init_timeout_seconds=0.2)
    client = await WsClient.open(gateway.ws)
    assert await client.closed() == (4408, "Connection initialisation timeout")


async def test_no_known_subprotocol_is_refused_with_4406(gateway: Served):
    client = await WsClient.open(gateway.ws, subprotocol=None)
    assert await client.closed() == (4406, "Subprotocol not acceptable")


async def test_ping_gets_pong_before_and_after_init(gateway: Served):
    client = await WsClient.open(gateway.ws)
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    await client.init()
    await client.send({"type": "ping", "payload": {"t": 1}})
    assert await client.receive() == {"type": "pong"}
    await client.send({"type": "pong"})  # unsolicited pongs are fine
    await client.subscribe("c", "subscription { countdown(start: 0) }")
    assert (await client.receive())["type"] == "next"
    await client.close()
