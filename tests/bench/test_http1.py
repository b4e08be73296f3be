"""The bench's lean HTTP/1.1 client against a real socket server: lengths, chunks, keep-alive, loss."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.bench._http1 import Http1Connection, Http1Error

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
    b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\n{}",
]


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[bytes], list[int]]]:
    requests: list[bytes] = []
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        try:
            for response in RESPONSES:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                requests.append(head + await reader.readexactly(length))
                writer.write(response)
                await writer.drain()
        finally:
            writer.close()  # after three answers the server hangs up

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield f"http://127.0.0.1:{port}/graphql", requests, connections


async def test_keep_alive_lengths_chunks_and_a_lost_connection(server) -> None:  # type: ignore[no-untyped-def]
    url, requests, connections = server
    connection = Http1Connection(url, {"Authorization": "Bearer t"})
    assert await connection.post(b'{"q":1}') == (200, b'{"ok":true}')
    assert await connection.post(b'{"q":2}') == (200, b'{"a":1}')
    assert await connection.post(b"{}") == (413, b"{}")
    assert connections == [0]  # one connection for all three
    assert requests[0].startswith(b"POST /graphql HTTP/1.1\r\n")
    assert b"Authorization: Bearer t\r\n" in requests[0] and requests[0].endswith(b'\r\n\r\n{"q":1}')
    with pytest.raises(Http1Error):
        await connection.post(b'{"q":4}')  # the server closed it
    assert await connection.post(b'{"q":5}') == (200, b'{"ok":true}')  # reconnects
    assert connections == [0, 1]
    await connection.close()
