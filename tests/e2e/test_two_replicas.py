"""Two gateways, two social replicas, one PostgreSQL and the real Redis: events cross replicas.

Gateway 1 routes `social` to replica 1 and gateway 2 to replica 2; both replicas share the
PostgreSQL database and a Redis key prefix of this test. A message sent through one path (gateway 1 ->
replica 1) reaches a subscriber on the other (gateway 2 -> replica 2), and the other way round, each
with the sender's identity profile resolved.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from shared.redis import RedisKeyValue
from shared.testing import ensure_postgres_database, redis_url
from shared.testing._stores import PG_HOST
from tests.e2e._stack import (
    MESSAGE_ADDED,
    OPEN_DIRECT,
    SEND,
    Api,
    Served,
    WsClient,
    listeners,
    register_and_login,
    social_settings,
    start_gateway,
    start_identity,
    start_social,
    supergraph_of,
    wait_until,
)

pytestmark = pytest.mark.postgres

# One database per test process, so a full-suite run and an area run at the same moment never share
# rows; dropped when the test ends.
PG_DBNAME = f"tributary_test_e2e_{os.getpid()}"


async def _drop(dbname: str) -> None:
    conn = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        # Identifiers cannot be bound parameters; the name is built from digits above.
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (requested before `servers`, so it is dropped after they stop)."""
    await _drop(PG_DBNAME)
    url = await ensure_postgres_database(PG_DBNAME)
    yield url
    await _drop(PG_DBNAME)


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test on the real Redis; its keys are deleted at the end."""
    prefix = f"tributary:test:e2e:{uuid.uuid4().hex}:"
    yield prefix
    client = aioredis.Redis.from_url(redis_url())
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_message_crosses_gateways_and_social_replicas(
    pg_url: str, redis_prefix: str, tmp_path: Path, servers: list[Served], http: httpx.AsyncClient
) -> None:
    identity = await start_identity(servers, tmp_path)
    social_prefix = redis_prefix + "social:"
    replicas = []
    routes_clients = []
    for index in (1, 2):  # started one after the other: the first migrates, the second finds head
        settings = social_settings(tmp_path / f"social{index}", identity=identity, database_url=pg_url,
                                   redis_url=redis_url(), kv_prefix=social_prefix, db_pool_size=4)
        routes_clients.append(redis_client := aioredis.Redis.from_url(redis_url()))
        routes = RedisKeyValue(redis_client, prefix=redis_prefix + "events:")
        replicas.append(await start_social(servers, settings, kv=None, routes_kv=routes))
    social1, social2 = replicas
    supergraph = await supergraph_of({"identity": identity.graphql, "social": social1.graphql})
    gateway1 = await start_gateway(servers, supergraph, identity=identity,
                                   subgraph_urls={"social": social1.graphql})
    gateway2 = await start_gateway(servers, supergraph, identity=identity,
                                   subgraph_urls={"social": social2.graphql})
    api1, api2 = Api(http, gateway1.graphql), Api(http, gateway2.graphql)
    # Observes the replicas' shared pub/sub channels (same Redis, same prefix as theirs).
    observer = RedisKeyValue(aioredis.Redis.from_url(redis_url()), prefix=social_prefix)

    alice = await register_and_login(api1, "alice_two", "Alice Two")
    bob = await register_and_login(api2, "bob_two", "Bob Two")
    # Bob follows Alice, so her DM is a conversation at once, not a message request.
    await api2.data("mutation($u: ID!) { follow(userId: $u) { id } }", {"u": alice.id}, token=bob.token)
    conversation = (await api1.data(OPEN_DIRECT, {"u": bob.id}, token=alice.token))["openDirectConversation"]["id"]

    bob_ws = await WsClient.open(gateway2.ws)
    alice_ws = await WsClient.open(gateway1.ws)
    try:
        assert (await bob_ws.init(bob.token))["type"] == "connection_ack"
        assert (await alice_ws.init(alice.token))["type"] == "connection_ack"
        await bob_ws.subscribe("b", MESSAGE_ADDED, {"c": conversation})
        await alice_ws.subscribe("a", MESSAGE_ADDED, {"c": conversation})
        # Each gateway holds its own upstream subscription, on its own replica.
        await wait_until(lambda: gateway1.app.state.realtime.upstream.open_count == 1, what="gateway 1 upstream")
        await wait_until(lambda: gateway2.app.state.realtime.upstream.open_count == 1, what="gateway 2 upstream")
        await wait_until(lambda: _at_least(listeners(observer, conversation), 2),
                         what="both replicas to listen on the conversation")
        # ... and the routing is what the gateways were told: one upstream socket on each replica.
        assert (social1.websockets, social2.websockets) == (1, 1)

        # A -> gateway 1 -> replica 1; B listens on gateway 2 -> replica 2.
        sent = (await api1.data(SEND, {"c": conversation, "t": "across replicas"}, token=alice.token))["sendMessage"]
        for client, operation in ((bob_ws, "b"), (alice_ws, "a")):
            event = await client.receive()
            assert event["type"] == "next" and event["id"] == operation, event
            assert event["payload"]["data"]["messageAdded"] == {
                "id": sent["id"], "text": "across replicas", "conversationId": conversation,
                "sender": {"id": alice.id, "handle": "alice_two", "displayName": "Alice Two"},
            }

        # And back: B -> gateway 2 -> replica 2 reaches A on gateway 1 -> replica 1.
        reply = (await api2.data(SEND, {"c": conversation, "t": "and back"}, token=bob.token))["sendMessage"]
        for client in (alice_ws, bob_ws):
            event = await client.receive()
            message = event["payload"]["data"]["messageAdded"]
            assert message["id"] == reply["id"] and message["text"] == "and back", event
            assert message["sender"] == {"id": bob.id, "handle": "bob_two", "displayName": "Bob Two"}

        # Both replicas read the one shared history.
        history = """query($c: ID!) { conversation(id: $c) { messages(first: 10) { nodes { text } } } }"""
        for api, user in ((api1, alice), (api2, bob)):
            data = await api.data(history, {"c": conversation}, token=user.token)
            assert [n["text"] for n in data["conversation"]["messages"]["nodes"]] == ["and back", "across replicas"]
    finally:
        await bob_ws.close()
        await alice_ws.close()
        await wait_until(lambda: _at_most(listeners(observer, conversation), 0), what="replicas to stop listening")
        await observer.client.aclose()
        for redis_client in routes_clients:
            await redis_client.aclose()


async def _at_least(count: Awaitable[int], n: int) -> bool:
    return await count >= n


async def _at_most(count: Awaitable[int], n: int) -> bool:
    return await count <= n
