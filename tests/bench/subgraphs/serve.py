"""Serves the benchmark subgraphs over uvicorn, each at /<name>/graphql, in one process.

    python -m tests.bench.subgraphs.serve [NAME ...] (--fd N | --port P)

The subgraphs are not what the benchmark measures, so they stay out of the way: the data never
changes, so each successful response is memoised by the exact request body (as the shared peer
benchmark does) and the app is a bare ASGI callable, not a framework. SUBGRAPH_RESPONSE_CACHE=0
executes every request. GET /stats answers the request counters the harness reads. One process
serves all four because the harness pins them to one core anyway, and one interpreter starts in a
quarter of the time.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import strawberry

NAMES = ("accounts", "inventory", "products", "reviews")
MAX_CACHED = 4096

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def subgraph_schema(name: str) -> strawberry.federation.Schema:
    assert name in NAMES, f"unknown benchmark subgraph {name!r}; known: {', '.join(NAMES)}"
    return importlib.import_module(f"tests.bench.subgraphs.{name}").schema  # type: ignore[no-any-return]


def subgraph_sdl(name: str) -> str:
    """The SDL the subgraph serves as `_service { sdl }`, which composition consumes."""
    result = subgraph_schema(name).execute_sync("{ _service { sdl } }")
    assert not result.errors, result.errors
    return str(result.data["_service"]["sdl"])  # type: ignore[index]


class SubgraphApp:
    """One subgraph's request handling: execute (or replay) a GraphQL request body."""

    def __init__(self, schema: strawberry.federation.Schema, *, memoise: bool = True) -> None:
        self.schema = schema
        self.memoise = memoise
        self.responses: dict[bytes, bytes] = {}
        self.counters = {"requests": 0, "cache_hits": 0, "errors": 0}

    async def answer(self, body: bytes) -> tuple[int, bytes]:
        cached = self.responses.get(body)
        if cached is not None:
            self.counters["cache_hits"] += 1
            return 200, cached
        try:
            request = orjson.loads(body)
            query = request["query"]
            assert isinstance(query, str)
        except (orjson.JSONDecodeError, KeyError, TypeError, AssertionError):
            return 400, orjson.dumps({"errors": [{"message": "body is not a GraphQL request"}]})
        result = await self.schema.execute(
            query, variable_values=request.get("variables"), operation_name=request.get("operationName")
        )
        response: dict[str, Any] = {}
        if result.errors:
            self.counters["errors"] += 1
            response["errors"] = [error.formatted for error in result.errors]
        response["data"] = result.data
        payload = orjson.dumps(response)
        if self.memoise and not result.errors:
            if len(self.responses) >= MAX_CACHED:
                self.responses.clear()
            self.responses[body] = payload
        return 200, payload


class SubgraphsApp:
    """ASGI app: POST /<name>/graphql for each subgraph; GET /stats (summed counters), /health."""

    def __init__(self, names: tuple[str, ...] = NAMES, *, memoise: bool = True) -> None:
        self.subgraphs = {f"/{name}/graphql": SubgraphApp(subgraph_schema(name), memoise=memoise) for name in names}

    def stats(self) -> dict[str, int]:
        counters = [subgraph.counters for subgraph in self.subgraphs.values()]
        return {key: sum(c[key] for c in counters) for key in ("requests", "cache_hits", "errors")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            if scope["path"] == "/stats":
                return await _send(send, 200, orjson.dumps(self.stats()))
            if scope["path"] == "/health":
                return await _send(send, 200, b"ok", b"text/plain")
            return await _send(send, 404, b"not found", b"text/plain")
        if scope["method"] != "POST":
            return await _send(send, 405, b"method not allowed", b"text/plain")
        subgraph = self.subgraphs.get(scope["path"])
        if subgraph is None:
            return await _send(send, 404, b"not found", b"text/plain")
        body = await _read_body(receive)
        subgraph.counters["requests"] += 1
        status, payload = await subgraph.answer(body)
        await _send(send, status, payload)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"default: all of {', '.join(NAMES)}")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int, help="an inherited, bound listening socket")
    where.add_argument("--port", type=int)
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown subgraph(s) {', '.join(unknown)}; known: {', '.join(NAMES)}")
    import uvicorn

    app = SubgraphsApp(tuple(args.names) or NAMES, memoise=os.environ.get("SUBGRAPH_RESPONSE_CACHE") != "0")
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port or 0,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        # gateways pool connections: outlive their idle timeouts so no request races a close
        timeout_keep_alive=65,
    )
    # socket(fileno=) learns the family from the kernel (uvicorn's own --fd assumes AF_UNIX)
    sockets = [socket.socket(fileno=args.fd)] if args.fd is not None else None
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main()
