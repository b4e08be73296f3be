"""Test clients for a served social app: GraphQL over HTTP and graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from shared.redis import KeyValue, MemoryKeyValue

PROTOCOL = "graphql-transport-ws"


async def gql(base_url: str, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    return response.json()


class WsClient:
    """A minimal graphql-transport-ws client on the `websockets` library."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    async def connect(cls, base_url: str, *, token: str | None) -> WsClient:
        url = base_url.replace("http://", "ws://") + "/graphql"
        connection = await websockets.connect(url, subprotocols=[PROTOCOL])
        client = cls(connection)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await client.send({"type": "connection_init", "payload": payload})
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        while True:
            message = json.loads(await self.connection.recv())
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message  # type: ignore[no-any-return]

    async def acknowledged(self) -> None:
        message = await self.receive()
        assert message == {"type": "connection_ack"}, message

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    async def close(self) -> None:
        await self.connection.close()


async def wait_subscribed(kv: KeyValue, channel: str, count: int = 1) -> None:
    """Until `count` subscribers listen on `channel` (a subscription is live only after that)."""
    while await subscriber_count(kv, channel) < count:
        await asyncio.sleep(0.01)


async def wait_unsubscribed(kv: KeyValue, channel: str) -> None:
    """Until nobody listens on `channel` any more."""
    while await subscriber_count(kv, channel) > 0:
        await asyncio.sleep(0.01)


async def subscriber_count(kv: KeyValue, channel: str) -> int:
    name = kv.prefix + channel  # type: ignore[attr-defined]
    if isinstance(kv, MemoryKeyValue):
        return len(kv.store.subscribers.get(name, ()))
    [(_, count)] = await kv.client.pubsub_numsub(name)  # type: ignore[attr-defined]
    return int(count)
