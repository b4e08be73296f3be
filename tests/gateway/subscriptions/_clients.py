"""A thin JSON-message client over the `websockets` library, and a small SSE reader over httpx."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 5.0


class WsClient:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, url: str, subprotocol: str | None = "graphql-transport-ws", **kwargs: Any) -> WsClient:
        protocols = [subprotocol] if subprotocol else None
        connection = await connect(url, subprotocols=protocols, open_timeout=TIMEOUT, **kwargs)  # type: ignore[list-item]
        return cls(connection)

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), TIMEOUT))

    async def receive_skipping(self, *kinds: str) -> dict[str, Any]:
        while True:
            message = await self.receive()
            if message.get("type") not in kinds:
                return message

    async def closed(self) -> tuple[int | None, str | None]:
        """Wait for the server to close; returns (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), TIMEOUT)
        except ConnectionClosed as closed:
            frame = closed.rcvd
        return (frame.code, frame.reason) if frame is not None else (None, None)

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        return await self.receive()

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def close(self) -> None:
        await self.connection.close()


async def read_sse(response: httpx.Response) -> list[tuple[str, Any]]:
    """All events of a finished SSE response as (event, data), keep-alive comments dropped."""
    events: list[tuple[str, Any]] = []
    async for kind, data in iterate_sse(response):
        events.append((kind, data))
    return events


async def iterate_sse(response: httpx.Response):  # type: ignore[no-untyped-def]
    kind, data = None, ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            kind = line[len("event:"):].strip()
        elif line.startswith("data:"):
            data += line[len("data:"):].strip()
        elif line == "" and kind is not None:
            yield kind, (json.loads(data) if data else None)
            kind, data = None, ""
