"""GraphQL over Server-Sent Events, "distinct connections mode": one operation per HTTP request on
`GET|POST /graphql/stream` (or `/graphql` with `Accept: text/event-stream`); every result is an
`event: next`, the end is `event: complete`. Errors before the stream starts are ordinary HTTP
GraphQL error responses (400/401/429); errors after it are a `next` with errors, then `complete`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..executor import RequestError
from ..executor.errors import BAD_REQUEST, INTERNAL_SERVER_ERROR
from ..executor.subscribe import SubscriptionError
from ._realtime import (
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    UNAUTHENTICATED,
    ConnectionLimitError,
    Identity,
    MutationOverGetError,
    Realtime,
    UnauthenticatedError,
    error_entry,
)

logger = logging.getLogger("tributary.gateway")

EVENT_STREAM = "text/event-stream"


def wants_event_stream(request: Request) -> bool:
    return EVENT_STREAM in request.headers.get("accept", "")


def with_event_stream(
    http: Callable[[Request], Awaitable[Response]], realtime: Realtime
) -> Callable[[Request], Awaitable[Response]]:
    """`/graphql` as usual, except requests accepting only an event stream go to SSE."""

    async def endpoint(request: Request) -> Response:
        if wants_event_stream(request):
            return await handle_stream(request, realtime)
        return await http(request)

    return endpoint


def stream_endpoint(realtime: Realtime) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handle_stream(request, realtime)

    return endpoint


class _BadStreamRequestError(Exception):
    pass


def _error_response(status: int, message: str, code: str) -> Response:
    return _json(status, {"errors": [error_entry(message, code)]})


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json; charset=utf-8")


async def _params(request: Request, max_body_bytes: int) -> dict[str, Any]:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if params.get(name):
                params[name] = orjson.loads(params[name])
        return params
    if "json" not in request.headers.get("content-type", ""):
        raise _BadStreamRequestError("Send GraphQL requests as application/json.")
    body = await request.body()
    if len(body) > max_body_bytes:
        raise _BadStreamRequestError(f"The request body exceeds {max_body_bytes} bytes.")
    parsed = orjson.loads(body)
    if not isinstance(parsed, dict):
        raise _BadStreamRequestError("The request body must be a JSON object.")
    return parsed


def _event(kind: str, payload: dict[str, Any] | None = None) -> bytes:
    data = orjson.dumps(payload) if payload is not None else b""
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


async def handle_stream(request: Request, realtime: Realtime) -> Response:
    settings = realtime.settings
    if realtime.gateway.engine is None:
        return _error_response(503, "No supergraph loaded yet.", SERVICE_UNAVAILABLE)
    try:
        params = await _params(request, settings.max_body_bytes)
    except (_BadStreamRequestError, orjson.JSONDecodeError) as error:
        return _error_response(400, str(error) if not isinstance(error, orjson.JSONDecodeError)
                               else "The request is not valid JSON.", BAD_REQUEST)
    credentials = {name: request.headers[name] for name in realtime.gateway.propagate if name in request.headers}
    try:
        identity = await realtime.identify(credentials)
    except UnauthenticatedError as error:
        return _error_response(401, error.message, UNAUTHENTICATED)
    hold = contextlib.ExitStack()
    try:
        hold.enter_context(realtime.hold(identity))
    except ConnectionLimitError as error:
        return _error_response(429, str(error), RATE_LIMITED)
    try:
        stream = realtime.stream(params, identity, allow_mutation=request.method != "GET")
    except RequestError as error:
        hold.close()
        status = 405 if isinstance(error, MutationOverGetError) else 400
        return _json(status, {"errors": error.errors})
    except SubscriptionError as error:
        hold.close()
        return _json(503, {"errors": error.errors})
    events = _events(stream, hold, realtime, identity)
    # a client gone before the body starts leaves the generator unstarted: release the slot anyway
    weakref.finalize(events, hold.close)
    return StreamingResponse(
        events,
        media_type=EVENT_STREAM,
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _events(
    stream: AsyncIterator[dict[str, Any]], hold: contextlib.ExitStack, realtime: Realtime, identity: Identity
) -> AsyncIterator[bytes]:
    """The SSE body: results as `next`, comment keep-alives while idle, and always a `complete`.

    Results are read by a separate task into a queue so that idle periods can emit keep-alives;
    when the client goes away Starlette cancels this generator and `finally` closes the upstream.
    """
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=64)
    keepalive = realtime.settings.subscription_keepalive_seconds
    left = realtime.seconds_left(identity)

    async def pump() -> None:
        try:
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for result in stream:
                    await queue.put(("next", result))
        except (RequestError, SubscriptionError) as error:
            await queue.put(("errors", error.errors))
        except Exception:
            logger.exception("SSE subscription failed")
            await queue.put(("errors", [error_entry("Internal server error", INTERNAL_SERVER_ERROR)]))
        await queue.put(("end", None))

    async def expire() -> None:
        if left is None:
            return
        await asyncio.sleep(left)
        await queue.put(("errors", [error_entry("Token expired", UNAUTHENTICATED)]))
        await queue.put(("end", None))

    tasks = [asyncio.create_task(pump()), asyncio.create_task(expire())]
    try:
        with hold:
            while True:
                try:
                    kind, value = await asyncio.wait_for(queue.get(), keepalive)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if kind == "next":
                    yield _event("next", value)
                elif kind == "errors":
                    yield _event("next", {"data": None, "errors": value})
                else:
                    yield _event("complete")
                    return
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
