"""Subscriptions (and queries/mutations) over WebSocket on /graphql: `graphql-transport-ws`, and the
legacy `graphql-ws` for older clients, chosen by subprotocol.

A connection authenticates once at connection_init; each operation runs as its own task reading
`Realtime.stream`. Whatever ends the connection (client close, token expiry, protocol error) cancels
every operation task, and cancelling a task closes its upstream subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..executor import RequestError
from ..executor.errors import INTERNAL_SERVER_ERROR
from ..executor.subscribe import SubscriptionError
from . import protocol as p
from ._realtime import (
    RATE_LIMITED,
    UNAUTHENTICATED,
    ConnectionLimitError,
    Realtime,
    UnauthenticatedError,
    credentials_from_payload,
    error_entry,
)

logger = logging.getLogger("tributary.gateway")


def websocket_endpoint(realtime: Realtime) -> Callable[[WebSocket], Awaitable[None]]:
    async def endpoint(websocket: WebSocket) -> None:
        await serve_websocket(websocket, realtime)

    return endpoint


async def serve_websocket(websocket: WebSocket, realtime: Realtime) -> None:
    offered = websocket.scope.get("subprotocols") or []
    connection: _Connection
    if p.GRAPHQL_TRANSPORT_WS in offered:
        connection = TransportWsConnection(websocket, realtime)
    elif p.GRAPHQL_WS in offered:
        connection = LegacyWsConnection(websocket, realtime)
    else:
        await websocket.accept()
        await websocket.close(p.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
        return
    await connection.run()


def _reason(text: str) -> str:
    # a close reason is at most 123 bytes of UTF-8
    encoded = text.encode()
    return text if len(encoded) <= 123 else encoded[:120].decode(errors="ignore") + "..."


class _Connection:
    subprotocol: str

    def __init__(self, websocket: WebSocket, realtime: Realtime) -> None:
        self.ws = websocket
        self.realtime = realtime
        self.settings = realtime.settings
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.identity: Any = None
        self.init_received = False
        self.acknowledged = False
        self.closed = False
        self._send_lock = asyncio.Lock()
        self._timers: list[asyncio.Task[None]] = []
        # timer handles rather than sleeping tasks: a held connection should cost little memory
        self._handles: list[asyncio.TimerHandle] = []
        self._stack = contextlib.ExitStack()

    # -- lifecycle -------------------------------------------------------------------------
    async def run(self) -> None:
        await self.ws.accept(subprotocol=self.subprotocol)
        self._later(self.settings.subscription_init_timeout_seconds, self._init_deadline)
        with self._stack:
            try:
                while not self.closed:
                    message = await self.ws.receive()
                    if message["type"] == "websocket.disconnect":
                        break
                    raw = message.get("text")
                    if raw is None:
                        raw = message.get("bytes") or b""
                    await self.on_message(raw)
            finally:
                self.closed = True
                await self._shutdown()

    def _later(self, delay: float, action: Callable[[], Coroutine[Any, Any, None]]) -> None:
        def fire() -> None:
            if not self.closed:
                self._timers.append(asyncio.create_task(action()))

        self._handles.append(asyncio.get_running_loop().call_later(delay, fire))

    async def _shutdown(self) -> None:
        for handle in self._handles:
            handle.cancel()
        for timer in self._timers:
            timer.cancel()
        tasks = list(self.operations.values())
        self.operations.clear()
        for task in tasks:
            task.cancel()
        # wait, so every upstream subscription is closed before the connection is forgotten
        await asyncio.gather(*self._timers, *tasks, return_exceptions=True)

    async def send(self, message: Mapping[str, Any]) -> bool:
        if self.closed:
            return False
        try:
            async with self._send_lock:
                await self.ws.send_text(orjson.dumps(message).decode())
        except (OSError, RuntimeError, WebSocketDisconnect):  # the client is gone; the receive loop sees it
            self.closed = True
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code, _reason(reason))

    async def _init_deadline(self) -> None:
        if not self.acknowledged:
            await self.close(p.INIT_TIMEOUT, "Connection initialisation timeout")

    async def _expire(self) -> None:
        ids = list(self.operations)
        for task in self.operations.values():
            task.cancel()
        self.operations.clear()
        for operation_id in ids:
            await self.send_failure(operation_id, [error_entry("Token expired", UNAUTHENTICATED)], started=True)
        await self.close(p.UNAUTHORIZED, "Token expired")

    async def initialise(self, payload: Mapping[str, Any]) -> str | None:
        """Authenticate and count the connection; returns why it is refused, or None."""
        credentials = {
            name: self.ws.headers[name] for name in self.realtime.gateway.propagate if name in self.ws.headers
        }
        credentials.update(credentials_from_payload(payload))
        try:
            identity = await self.realtime.identify(credentials)
        except UnauthenticatedError as error:
            await self.refuse(p.UNAUTHORIZED, error.message)
            return error.message
        try:
            self._stack.enter_context(self.realtime.hold(identity))
        except ConnectionLimitError as error:
            await self.refuse(p.FORBIDDEN, str(error))
            return str(error)
        self.identity = identity
        left = self.realtime.seconds_left(identity)
        if left is not None:
            self._later(left, self._expire)
        return None

    async def refuse(self, code: int, reason: str) -> None:
        await self.close(code, reason)

    # -- operations ------------------------------------------------------------------------
    def start(self, operation_id: str, payload: Mapping[str, Any]) -> None:
        self.operations[operation_id] = asyncio.create_task(self._operate(operation_id, payload))

    def stop(self, operation_id: str) -> None:
        task = self.operations.pop(operation_id, None)
        if task is not None:
            task.cancel()

    def at_limit(self) -> str | None:
        limit = self.settings.max_subscriptions_per_connection
        if len(self.operations) >= limit:
            return f"Too many operations on this connection (limit {limit}); complete one first."
        return None

    async def _operate(self, operation_id: str, payload: Mapping[str, Any]) -> None:
        me = asyncio.current_task()
        errors: list[dict[str, Any]] | None = None
        started = False
        try:
            stream = self.realtime.stream(payload, self.identity)
            started = True
            async with contextlib.aclosing(stream):
                async for result in stream:
                    await self.send_result(operation_id, result)
        except RequestError as error:
            errors = error.errors
        except SubscriptionError as error:
            errors = error.errors
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("subscription operation failed")
            errors = [error_entry("Internal server error", INTERNAL_SERVER_ERROR)]
        finally:
            # free the id before telling the client, so it may reuse it at once
            if self.operations.get(operation_id) is me:
                del self.operations[operation_id]
        if errors is None:
            await self.send_complete(operation_id)
        else:
            await self.send_failure(operation_id, errors, started=started)

    async def on_message(self, raw: str | bytes) -> None:
        raise NotImplementedError

    async def send_result(self, operation_id: str, result: dict[str, Any]) -> None:
        raise NotImplementedError

    async def send_failure(self, operation_id: str, errors: list[dict[str, Any]], *, started: bool) -> None:
        raise NotImplementedError

    async def send_complete(self, operation_id: str) -> None:
        raise NotImplementedError


def _parse(raw: str | bytes) -> dict[str, Any] | None:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message


class TransportWsConnection(_Connection):
    subprotocol = p.GRAPHQL_TRANSPORT_WS

    async def on_message(self, raw: str | bytes) -> None:
        message = _parse(raw)
        if message is None:
            await self.close(p.BAD_MESSAGE, "Invalid message received")
            return
        kind = message["type"]
        if kind == "connection_init":
            await self._on_init(message)
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._on_subscribe(message)
        elif kind == "complete":
            operation_id = message.get("id")
            if not isinstance(operation_id, str):
                await self.close(p.BAD_MESSAGE, "Invalid complete message: 'id' must be a string")
                return
            self.stop(operation_id)
        else:
            await self.close(p.BAD_MESSAGE, f"Unexpected message type '{kind}'")

    async def _on_init(self, message: dict[str, Any]) -> None:
        if self.init_received:
            await self.close(p.TOO_MANY_INIT_REQUESTS, "Too many initialisation requests")
            return
        self.init_received = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.close(p.BAD_MESSAGE, "Invalid connection_init payload: expected an object")
            return
        if await self.initialise(payload or {}) is None:
            self.acknowledged = True
            await self.send(p.ConnectionAckMessage(type="connection_ack"))

    async def _on_subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            await self.close(p.UNAUTHORIZED, "Unauthorized")
            return
        operation_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            await self.close(p.BAD_MESSAGE, "Invalid subscribe message: needs a string 'id' and a 'payload' object")
            return
        if operation_id in self.operations:
            await self.close(p.DUPLICATE_SUBSCRIBER, f"Subscriber for {operation_id} already exists")
            return
        refusal = self.at_limit()
        if refusal is not None:
            await self.send_failure(operation_id, [error_entry(refusal, RATE_LIMITED)], started=False)
            return
        self.start(operation_id, payload)

    async def send_result(self, operation_id: str, result: dict[str, Any]) -> None:
        await self.send({"id": operation_id, "type": "next", "payload": result})

    async def send_failure(self, operation_id: str, errors: list[dict[str, Any]], *, started: bool) -> None:
        # `error` ends the operation in this protocol; no `complete` follows it
        await self.send(p.ErrorMessage(id=operation_id, type="error", payload=errors))

    async def send_complete(self, operation_id: str) -> None:
        await self.send(p.CompleteMessage(id=operation_id, type="complete"))


class LegacyWsConnection(_Connection):
    """subscriptions-transport-ws: start/stop, data, ka keep-alives; errors before execution as
    `error` (one error object), errors during a stream as `data` with errors then `complete`."""

    subprotocol = p.GRAPHQL_WS

    async def on_message(self, raw: str | bytes) -> None:
        message = _parse(raw)
        if message is None:
            await self.close(p.BAD_MESSAGE, "Invalid message received")
            return
        kind = message["type"]
        if kind == "connection_init":
            await self._on_init(message)
        elif kind == "start":
            await self._on_start(message)
        elif kind == "stop":
            operation_id = message.get("id")
            if isinstance(operation_id, str):
                self.stop(operation_id)
        elif kind == "connection_terminate":
            await self.close(1000, "Terminated by the client")
        else:
            await self.close(p.BAD_MESSAGE, f"Unexpected message type '{kind}'")

    async def _on_init(self, message: dict[str, Any]) -> None:
        if self.init_received:
            return
        self.init_received = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.refuse(p.BAD_MESSAGE, "Invalid connection_init payload: expected an object")
            return
        if await self.initialise(payload or {}) is None:
            self.acknowledged = True
            await self.send({"type": "connection_ack"})
            await self.send(p.LegacyKeepAliveMessage(type="ka"))
            self._timers.append(asyncio.create_task(self._keep_alive()))

    async def refuse(self, code: int, reason: str) -> None:
        await self.send(p.LegacyConnectionErrorMessage(type="connection_error", payload={"message": reason}))
        await self.close(code, reason)

    async def _keep_alive(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.settings.subscription_keepalive_seconds)
            await self.send(p.LegacyKeepAliveMessage(type="ka"))

    async def _on_start(self, message: dict[str, Any]) -> None:
        operation_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            await self.close(p.BAD_MESSAGE, "Invalid start message: needs a string 'id' and a 'payload' object")
            return
        if not self.acknowledged:
            await self.send_failure(
                operation_id, [error_entry("Send connection_init first.", UNAUTHENTICATED)], started=False
            )
            return
        self.stop(operation_id)  # a start for a running id replaces it, as the protocol's servers do
        refusal = self.at_limit()
        if refusal is not None:
            await self.send_failure(operation_id, [error_entry(refusal, RATE_LIMITED)], started=False)
            return
        self.start(operation_id, payload)

    async def send_result(self, operation_id: str, result: dict[str, Any]) -> None:
        await self.send(p.LegacyDataMessage(id=operation_id, type="data", payload=result))  # type: ignore[typeddict-item]

    async def send_failure(self, operation_id: str, errors: list[dict[str, Any]], *, started: bool) -> None:
        if not started:
            await self.send(p.LegacyErrorMessage(id=operation_id, type="error", payload=errors[0]))
            return
        await self.send(p.LegacyDataMessage(id=operation_id, type="data", payload={"data": None, "errors": errors}))
        await self.send_complete(operation_id)

    async def send_complete(self, operation_id: str) -> None:
        await self.send(p.LegacyCompleteMessage(id=operation_id, type="complete"))
