"""Subscriptions: the root field streams from its subgraph over graphql-transport-ws; every event runs
the rest of the plan (the entity fetches) on that event's data exactly as a query would, then shaped.

One upstream WebSocket per client subscription, so closing a client's stream closes exactly its
upstream (`complete`, then the socket). Failures never end a stream silently: they raise
`SubscriptionError` carrying GraphQL errors for the transport to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from ..planner.plan import Fetch, PlanNode, QueryPlan, Sequence
from ..supergraph import ServiceName
from .engine import Engine, PreparedOperation
from .errors import INTERNAL_SERVER_ERROR, QUERY_PLANNING_FAILED, SUBGRAPH_FETCH_FAILED
from .execute import ExecutionContext, _subgraph_error
from .merge import deep_merge

TRANSPORT_WS = "graphql-transport-ws"
SLOW_CONSUMER = "SLOW_CONSUMER"

logger = logging.getLogger("tributary.gateway")


class SubscriptionError(Exception):
    """The stream cannot start or cannot go on; `errors` are GraphQL errors for the client."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "subscription failed")
        self.errors = errors


def _upstream_error(service: str, message: str) -> SubscriptionError:
    return SubscriptionError(
        [{"message": message, "extensions": {"code": SUBGRAPH_FETCH_FAILED, "serviceName": service}}]
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class UpstreamOptions:
    connect_timeout_seconds: float = 10.0
    ack_timeout_seconds: float = 10.0
    # WebSocket pings towards the subgraph: a subgraph that vanishes without closing is noticed
    heartbeat_seconds: float = 20.0
    close_timeout_seconds: float = 2.0


def websocket_url(url: str) -> str:
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):]
    if url.startswith("http://"):
        return "ws://" + url[len("http://"):]
    return url


class WebSocketSubgraphClient:
    """Opens subscriptions on subgraphs over graphql-transport-ws (aiohttp)."""

    def __init__(self, options: UpstreamOptions | None = None) -> None:
        self.options = options or UpstreamOptions()
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self.open_count = 0  # upstream sockets currently open (for tests, metrics and the bench)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                # shared by every subscriber: no cookie from one handshake may reach another's
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def stream(
        self,
        service: str,
        url: str,
        request: Mapping[str, Any],
        *,
        init_payload: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield each `next` payload of one upstream subscription until the subgraph completes it."""
        options = self.options
        try:
            ws = await asyncio.wait_for(
                self._client().ws_connect(
                    websocket_url(url),
                    protocols=(TRANSPORT_WS,),
                    headers=dict(headers),
                    heartbeat=options.heartbeat_seconds,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=options.close_timeout_seconds),
                    max_msg_size=0,
                ),
                options.connect_timeout_seconds,
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise _upstream_error(service, f"subscription to subgraph '{service}' failed: {error or type(error).__name__}") from None
        self.open_count += 1
        operation_id = str(next(self._ids))
        completed = False
        try:
            await ws.send_str(_dumps({"type": "connection_init", "payload": dict(init_payload)}))
            await self._await_ack(ws, service)
            await ws.send_str(
                _dumps({"id": operation_id, "type": "subscribe", "payload": dict(request)})
            )
            while True:
                message = await ws.receive()
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    parsed = _parse(message.data, service)
                    kind = parsed.get("type")
                    if kind == "next" and parsed.get("id") == operation_id:
                        payload = parsed.get("payload")
                        if not isinstance(payload, dict):
                            raise _upstream_error(service, f"subgraph '{service}' sent an event without a payload")
                        yield payload
                    elif kind == "error" and parsed.get("id") == operation_id:
                        completed = True
                        raise SubscriptionError(_errors_of(parsed.get("payload"), service))
                    elif kind == "complete" and parsed.get("id") == operation_id:
                        completed = True
                        return
                    elif kind == "ping":
                        await ws.send_str('{"type":"pong"}')
                    # pongs and anything addressed elsewhere are ignored
                else:
                    completed = True
                    raise _upstream_error(service, _closed_message(service, ws, message))
        except (aiohttp.ClientError, ConnectionError) as error:
            completed = True
            raise _upstream_error(service, f"subscription to subgraph '{service}' failed: {error}") from None
        finally:
            self.open_count -= 1
            await self._close(ws, operation_id, completed)

    async def _await_ack(self, ws: aiohttp.ClientWebSocketResponse, service: str) -> None:
        async with asyncio.timeout(self.options.ack_timeout_seconds):
            while True:
                message = await ws.receive()
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    raise _upstream_error(service, _closed_message(service, ws, message, refused=True))
                parsed = _parse(message.data, service)
                if parsed.get("type") == "connection_ack":
                    return
                if parsed.get("type") == "ping":
                    await ws.send_str('{"type":"pong"}')

    async def _close(self, ws: aiohttp.ClientWebSocketResponse, operation_id: str, completed: bool) -> None:
        # shielded: this often runs because the client's task was cancelled
        async def close() -> None:
            with contextlib.suppress(Exception):
                if not completed and not ws.closed:
                    await ws.send_str(_dumps({"id": operation_id, "type": "complete"}))
                await ws.close()

        task = asyncio.ensure_future(close())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await task
            raise

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _dumps(message: Mapping[str, Any]) -> str:
    # graphql-transport-ws peers (Strawberry among them) accept text frames only
    return orjson.dumps(message).decode()


def _parse(data: str | bytes, service: str) -> dict[str, Any]:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise _upstream_error(service, f"subgraph '{service}' sent a message that is not JSON") from None
    if not isinstance(parsed, dict):
        raise _upstream_error(service, f"subgraph '{service}' sent a message that is not an object")
    return parsed


def _closed_message(
    service: str, ws: aiohttp.ClientWebSocketResponse, message: aiohttp.WSMessage, *, refused: bool = False
) -> str:
    what = "refused the subscription connection" if refused else "closed the subscription"
    code = ws.close_code
    reason = ""
    exception = ws.exception()
    if message.type == aiohttp.WSMsgType.CLOSE and message.extra:
        reason = f": {message.extra}"  # the subgraph's own words, e.g. why it refused the caller
    elif exception is not None:
        reason = f": {exception}"
    return f"subgraph '{service}' {what}" + (f" (close code {code}{reason})" if code is not None else reason)


def _errors_of(payload: Any, service: str) -> list[dict[str, Any]]:
    items = payload if isinstance(payload, list) else [payload]
    return [_subgraph_error(item, service, item.get("path") if isinstance(item, dict) else None) for item in items]


# -- planning and running events --------------------------------------------------------------


def split_subscription_plan(plan: QueryPlan) -> tuple[Fetch, PlanNode | None]:
    """The subscription root fetch, and what runs after it on every event."""
    node = plan.node
    if isinstance(node, Fetch) and node.operation_kind == "subscription":
        return node, None
    if isinstance(node, Sequence) and node.nodes:
        first, rest = node.nodes[0], node.nodes[1:]
        if isinstance(first, Fetch) and first.operation_kind == "subscription":
            return first, (rest[0] if len(rest) == 1 else Sequence(nodes=rest)) if rest else None
    raise SubscriptionError(
        [{"message": "The subscription plan has no subscription root fetch.",
          "extensions": {"code": QUERY_PLANNING_FAILED}}]
    )


def _forwarded_variables(
    variables: Mapping[str, Any] | None, coerced: Mapping[str, Any]
) -> dict[str, Any]:
    # the same rule as Engine.execute: what the client sent, plus defaults and coerced booleans
    forwarded = dict(variables or {})
    for name, value in coerced.items():
        forwarded.setdefault(name, value)
    forwarded.update({k: v for k, v in coerced.items() if isinstance(v, bool)})
    return forwarded


async def execute_stream(
    engine: Engine,
    prepared: PreparedOperation,
    variables: Mapping[str, Any] | None,
    *,
    headers: Mapping[str, str],
    init_payload: Mapping[str, Any],
    upstream: WebSocketSubgraphClient,
    ws_urls: Mapping[str, str] | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """Results of any operation as a stream: one for a query or mutation, one per event otherwise.

    Raises `RequestError` before the first result when the variables are bad, and
    `SubscriptionError` when the subgraph cannot be reached or goes away. `ws_urls` overrides the
    subgraph URL for subscriptions (http(s) URLs become ws(s)).
    """
    if prepared.operation.kind != "subscription":
        yield await engine.execute(prepared, variables, headers)
        return
    coerced = engine.coerce_variables(prepared, variables)
    forwarded = _forwarded_variables(variables, coerced)
    root, rest = split_subscription_plan(prepared.plan)
    request = {
        "query": root.operation,
        "variables": {v: forwarded[v] for v in root.variable_usages if v in forwarded},
    }
    url = (ws_urls or {}).get(root.service_name) or engine.urls[ServiceName(root.service_name)]
    events = upstream.stream(root.service_name, url, request, init_payload=init_payload, headers=headers)
    async with contextlib.aclosing(events):
        async for event in events:
            yield await resolve_event(engine, prepared, rest, event, variables=forwarded, coerced=coerced,
                                      headers=headers, service=root.service_name)


async def resolve_event(
    engine: Engine,
    prepared: PreparedOperation,
    rest: PlanNode | None,
    event: Mapping[str, Any],
    *,
    variables: dict[str, Any],
    coerced: Mapping[str, Any],
    headers: Mapping[str, str],
    service: str,
) -> dict[str, Any]:
    """One upstream event -> one client result: entity fetches on the event's data, then shaping."""
    context = ExecutionContext(variables=dict(variables), headers=headers)
    data = event.get("data")
    if isinstance(data, dict):
        deep_merge(context.data, data)
    for error in event.get("errors") or ():
        context.errors.append(_subgraph_error(error, service, error.get("path") if isinstance(error, dict) else None))
    if isinstance(data, dict):
        await engine.executor.execute(rest, context)
    root_type = engine.supergraph.root_types["subscription"]
    shaped = engine.shaper.shape_root(
        prepared.operation.selections, root_type, context.data, dict(coerced), context.errors
    )
    result: dict[str, Any] = {}
    if context.errors:
        result["errors"] = context.errors
    result["data"] = shaped
    return result



# -- sharing identical subscriptions ------------------------------------------------------------

_END = object()


class _Shared:
    """One running stream and the queues of the clients reading it."""

    __slots__ = ("key", "queues", "task")

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key
        self.queues: set[asyncio.Queue[Any]] = set()
        self.task: asyncio.Task[None] | None = None


class SubscriptionHub:
    """Shares one upstream subscription, and the entity fetches of each event, among the clients whose
    operation, variables and forwarded headers are identical (cf. Apollo Router's subscription
    deduplication). The same headers mean the same identity, so every sharer may see every result.

    The upstream closes when its last reader leaves. A reader that falls `queue_size` results behind
    is ended with an error instead of holding memory for it.
    """

    def __init__(self, upstream: WebSocketSubgraphClient, *, queue_size: int = 256, share: bool = True) -> None:
        assert queue_size > 0, "queue_size must be positive"
        self.upstream = upstream
        self.queue_size = queue_size
        self.share = share
        self._shared: dict[tuple[Any, ...], _Shared] = {}

    @property
    def running(self) -> int:
        """Distinct upstream streams currently running."""
        return len(self._shared)

    async def stream(
        self,
        engine: Engine,
        prepared: PreparedOperation,
        variables: Mapping[str, Any] | None,
        *,
        headers: Mapping[str, str],
        init_payload: Mapping[str, Any],
        ws_urls: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Like `execute_stream`, reading from a shared stream when an identical one is running."""
        if prepared.operation.kind != "subscription":
            yield await engine.execute(prepared, variables, headers)
            return
        engine.coerce_variables(prepared, variables)  # bad variables fail this caller alone
        shared = self._join(engine, prepared, variables, headers=headers, init_payload=init_payload,
                            ws_urls=ws_urls)
        queue: asyncio.Queue[Any] = asyncio.Queue(self.queue_size)
        shared.queues.add(queue)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, SubscriptionError):
                    raise item
                yield item
        finally:
            shared.queues.discard(queue)
            if not shared.queues and shared.task is not None and not shared.task.done():
                self._forget(shared)
                shared.task.cancel()
                # wait for the upstream to close, so "left" means "closed upstream" for callers
                await asyncio.gather(shared.task, return_exceptions=True)

    def _join(
        self,
        engine: Engine,
        prepared: PreparedOperation,
        variables: Mapping[str, Any] | None,
        *,
        headers: Mapping[str, str],
        init_payload: Mapping[str, Any],
        ws_urls: Mapping[str, str] | None,
    ) -> _Shared:
        # the objects themselves are in the key (kept alive by it), so a swapped engine or a
        # re-planned operation never shares with streams of the old one; the key is built here,
        # not in the reader's frame, so a held subscription does not keep its own copy
        key: tuple[Any, ...] = (
            engine,
            prepared,
            orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode(),
            tuple(sorted(headers.items())),
            orjson.dumps(dict(init_payload), option=orjson.OPT_SORT_KEYS).decode(),
            tuple(sorted((ws_urls or {}).items())),
        )
        if not self.share:
            key = (*key, object())
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = _Shared(key)
            source = execute_stream(engine, prepared, variables, headers=headers, init_payload=init_payload,
                                    upstream=self.upstream, ws_urls=ws_urls)
            shared.task = asyncio.create_task(self._produce(shared, source))
        return shared

    def _forget(self, shared: _Shared) -> None:
        if self._shared.get(shared.key) is shared:
            del self._shared[shared.key]

    async def _produce(self, shared: _Shared, source: AsyncGenerator[dict[str, Any], None]) -> None:
        end: Any = _END
        try:
            async with contextlib.aclosing(source):
                async for result in source:
                    self._fan_out(shared, result)
        except SubscriptionError as error:
            end = error
        except asyncio.CancelledError:
            raise
        except Exception:  # a gateway bug: logged, and every reader gets an error, not silence
            logger.exception("shared subscription failed")
            end = SubscriptionError([{"message": "Internal server error",
                                      "extensions": {"code": INTERNAL_SERVER_ERROR}}])
        # no new reader may join a stream that has ended
        self._forget(shared)
        self._fan_out(shared, end)

    def _fan_out(self, shared: _Shared, item: Any) -> None:
        for queue in list(shared.queues):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                shared.queues.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(SubscriptionError([{
                    "message": "Events arrived faster than this client read them; the subscription was ended.",
                    "extensions": {"code": SLOW_CONSUMER},
                }]))
