"""Token checks at connection_init, expiry ending subscriptions, and connection/subscription limits."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt

from tests.gateway.subscriptions._clients import WsClient, read_sse
from tests.gateway.subscriptions._subgraphs import Recorder
from tests.gateway.subscriptions.conftest import GatewayFactory
from tests.gateway.subscriptions.test_transport_ws import MESSAGES

SECRET = "subscription-tests-hs256-secret-of-48-bytes-length"
AUTH = {"jwt_dev_hs256_secret": SECRET, "jwt_issuer": "tests", "jwt_audience": "tributary"}


def token(user: str = "u1", *, ttl: int = 600, secret: str = SECRET, issuer: str = "tests") -> str:
    now = int(time.time())
    claims = {"sub": user, "iss": issuer, "aud": "tributary", "iat": now, "exp": now + ttl, "roles": []}
    return jwt.encode(claims, secret, algorithm="HS256")


async def test_bad_tokens_are_refused_with_4401(make_gateway: GatewayFactory, recorder: Recorder):
    gateway = await make_gateway(**AUTH)
    for bad in (token(secret="another-secret-that-is-long-enough-for-hs256-keys"), token(issuer="elsewhere"), "garbage", token(ttl=-60)):
        client = await WsClient.open(gateway.ws)
        await client.send({"type": "connection_init", "payload": {"authorization": f"Bearer {bad}"}})
        code, reason = await client.closed()
        assert code == 4401, reason
        assert reason.startswith(("Invalid token", "Token expired"))
    assert recorder.init_payloads == []  # nothing reached the subgraph


async def test_verified_token_is_forwarded_upstream(make_gateway: GatewayFactory, recorder: Recorder):
    gateway = await make_gateway(**AUTH)
    good = token("u2")
    client = await WsClient.open(gateway.ws)
    assert await client.init({"Authorization": f"Bearer {good}"}) == {"type": "connection_ack"}
    await client.subscribe("w", "subscription { whoami }")
    assert await client.receive() == {"id": "w", "type": "next", "payload": {"data": {"whoami": f"Bearer {good}"}}}
    assert await client.receive() == {"id": "w", "type": "complete"}
    await client.close()


async def test_no_token_is_anonymous_even_with_a_verifier(make_gateway: GatewayFactory):
    gateway = await make_gateway(**AUTH)
    client = await WsClient.open(gateway.ws)
    assert await client.init() == {"type": "connection_ack"}
    await client.subscribe("w", "subscription { whoami }")
    assert (await client.receive())["payload"] == {"data": {"whoami": "None"}}
    await client.close()


async def test_expired_token_ends_subscriptions(make_gateway: GatewayFactory, recorder: Recorder):
    gateway = await make_gateway(**AUTH)
    client = await WsClient.open(gateway.ws)
    assert await client.init({"token": token(ttl=2)}) == {"type": "connection_ack"}
    await client.subscribe("s", MESSAGES, {"room": "lobby"})
    await recorder.wait_for(lambda: recorder.active == 1)
    message = await client.receive()
    assert message == {
        "id": "s", "type": "error",
        "payload": [{"message": "Token expired", "extensions": {"code": "UNAUTHENTICATED"}}],
    }
    assert await client.closed() == (4401, "Token expired")
    await recorder.wait_for(lambda: recorder.active == 0)


async def test_sse_checks_tokens(make_gateway: GatewayFactory):
    gateway = await make_gateway(**AUTH)
    body = {"query": "subscription { countdown(start: 0) }"}
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.post(f"{gateway.base}/graphql/stream", json=body,
                                   headers={"authorization": "Bearer nope"})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        async with http.stream("POST", f"{gateway.base}/graphql/stream", json=body,
                               headers={"authorization": f"Bearer {token()}"}) as response:
            assert response.status_code == 200
            assert await read_sse(response) == [("next", {"data": {"countdown": 0}}), ("complete", None)]


async def test_subscriptions_per_connection_limit(make_gateway: GatewayFactory, recorder: Recorder):
    gateway = await make_gateway(max_subscriptions_per_connection=1)
    client = await WsClient.open(gateway.ws)
    await client.init()
    await client.subscribe("one", MESSAGES, {"room": "lobby"})
    await client.subscribe("two", MESSAGES, {"room": "lobby"})
    message = await client.receive()
    assert message["id"] == "two" and message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "limit 1" in message["payload"][0]["message"]
    await recorder.wait_for(lambda: recorder.active == 1)
    await client.send({"id": "one", "type": "complete"})
    await recorder.wait_for(lambda: recorder.active == 0)
    await client.subscribe("two", "subscription { countdown(start: 0) }")
    assert (await client.receive())["type"] == "next"
    await client.close()


async def test_connections_per_user_limit(make_gateway: GatewayFactory):
    gateway = await make_gateway(max_connections_per_user=1, **AUTH)
    mine = token("u1")
    first = await WsClient.open(gateway.ws)
    assert await first.init({"authorization": f"Bearer {mine}"}) == {"type": "connection_ack"}
    second = await WsClient.open(gateway.ws)
    await second.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token('u1')}"}})
    assert await second.closed() == (4403, "Too many subscription connections for this user (limit 1).")
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.post(f"{gateway.base}/graphql/stream", json={"query": "subscription { countdown(start: 0) }"},
                                   headers={"authorization": f"Bearer {mine}"})
    assert response.status_code == 429
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # another user is not affected, and the slot frees when the first connection closes
    other = await WsClient.open(gateway.ws)
    assert await other.init({"authorization": f"Bearer {token('u2')}"}) == {"type": "connection_ack"}
    await first.close()
    third = await WsClient.open(gateway.ws)
    for _ in range(500):  # the server notices the close asynchronously
        if not gateway.app.state.realtime._connections.get("user:u1"):
            break
        await asyncio.sleep(0.01)
    assert await third.init({"authorization": f"Bearer {mine}"}) == {"type": "connection_ack"}
    await third.close()
    await other.close()


async def test_legacy_protocol_refuses_bad_tokens_with_connection_error(make_gateway: GatewayFactory):
    gateway = await make_gateway(**AUTH)
    client = await WsClient.open(gateway.ws, subprotocol="graphql-ws")
    await client.send({"type": "connection_init", "payload": {"authToken": "garbage"}})
    message = await client.receive()
    assert message["type"] == "connection_error"
    assert message["payload"]["message"].startswith("Invalid token")
    assert (await client.closed())[0] == 4401


async def test_sse_stream_ends_when_the_token_expires(make_gateway: GatewayFactory, recorder: Recorder):
    gateway = await make_gateway(**AUTH)
    async with httpx.AsyncClient(timeout=10) as http, http.stream(
        "POST", f"{gateway.base}/graphql/stream", json={"query": MESSAGES, "variables": {"room": "lobby"}},
        headers={"authorization": f"Bearer {token(ttl=2)}"},
    ) as response:
        assert response.status_code == 200
        events = await read_sse(response)
    assert events == [
        ("next", {"data": None, "errors": [{"message": "Token expired", "extensions": {"code": "UNAUTHENTICATED"}}]}),
        ("complete", None),
    ]
    await recorder.wait_for(lambda: recorder.active == 0)  # whatever was opened upstream is closed
