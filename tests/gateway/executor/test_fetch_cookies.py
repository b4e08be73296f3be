"""The subgraph client shares one session across all callers: it must keep no cookies."""

from __future__ import annotations

import asyncio

import orjson

from gateway.executor.fetch import HttpSubgraphClient


async def test_a_cookie_set_by_a_subgraph_is_not_sent_on_later_requests() -> None:
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            seen.append(head)
            body = orjson.dumps({"data": {"ok": True}})
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Set-Cookie: session=alice-secret; Path=/\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    # a host name, not an IP: aiohttp's default jar ignores cookies from IP addresses
    url = f"http://localhost:{server.sockets[0].getsockname()[1]}/graphql"
    client = HttpSubgraphClient()
    try:
        async with server:
            for user in ("alice", "bob"):
                answer = await client.post("accounts", url, b'{"query":"{ ok }"}',
                                           {"authorization": f"Bearer {user}"})
                assert answer == {"data": {"ok": True}}
    finally:
        await client.close()
    assert len(seen) == 2
    assert b"bearer bob" in seen[1].lower()
    assert b"cookie" not in seen[1].lower()  # alice's cookie did not ride along on bob's request
