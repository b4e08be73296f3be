"""Subgraph HTTP calls: one keep-alive pool per subgraph, orjson, timeouts, in-flight dedup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson

logger = logging.getLogger("tributary.gateway")

# Per-request bookkeeping; the client address is left in: rate limits may answer differently.
_NOT_IN_DEDUPE_KEY = frozenset({"x-request-id", "traceparent", "tracestate"})


class SubgraphRequestError(Exception):
    """The subgraph could not be reached, timed out, or answered something that is not GraphQL."""


class SubgraphClient(Protocol):
    async def post(
        self,
        service: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        dedupe: bool = False,
    ) -> dict[str, Any]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientOptions:
    timeout_seconds: float = 30.0
    connections_per_subgraph: int = 100
    dedupe_in_flight: bool = True
    # Headers for one subgraph on every request (the gateway's service credential).
    credential: Callable[[str], Mapping[str, str]] | None = None


class HttpSubgraphClient:
    def __init__(self, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._in_flight: dict[tuple[str, bytes, tuple[tuple[str, str], ...]], asyncio.Future[dict[str, Any]]] = {}

    def _session(self, service: str) -> aiohttp.ClientSession:
        session = self._sessions.get(service)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.options.connections_per_subgraph, keepalive_timeout=60, ttl_dns_cache=300
            )
            session = aiohttp.ClientSession(
                connector=connector,
                # One session serves every client of the gateway: a cookie a subgraph sets for
                # one request must never ride along on another user's (and jars cost CPU).
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=self.options.timeout_seconds),
                json_serialize=lambda v: orjson.dumps(v).decode(),
                skip_auto_headers=("User-Agent",),
            )
            self._sessions[service] = session
        return session

    async def post(
        self, service: str, url: str, body: bytes, headers: Mapping[str, str], *, dedupe: bool = False
    ) -> dict[str, Any]:
        if not (dedupe and self.options.dedupe_in_flight):
            return await self._post(service, url, body, headers)
        # per-request bookkeeping headers do not change the answer: leave them out of the key
        key = (url, body, tuple(sorted(i for i in headers.items() if i[0] not in _NOT_IN_DEDUPE_KEY)))
        shared = self._in_flight.get(key)
        if shared is not None:
            return await asyncio.shield(shared)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result = await self._post(service, url, body, headers)
            future.set_result(result)
            return result
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._in_flight[key]

    async def _post(self, service: str, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        request_headers = {"content-type": "application/json", "accept": "application/json", **headers}
        if self.options.credential is not None:
            request_headers.update(self.options.credential(service))
        try:
            async with self._session(service).post(url, data=body, headers=request_headers) as response:
                payload = await response.read()
                status = response.status
        except TimeoutError as error:
            raise SubgraphRequestError(f"request to subgraph '{service}' timed out") from error
        except aiohttp.ClientError as error:
            # The detail names hosts, ports and socket errors: for the logs, never the client.
            logger.warning("request %s to subgraph %r at %s failed: %r",
                           headers.get("x-request-id", "-"), service, url, error)
            raise SubgraphRequestError(f"request to subgraph '{service}' failed") from error
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise SubgraphRequestError(
                f"subgraph '{service}' answered HTTP {status} with a body that is not JSON"
            ) from None
        if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
            raise SubgraphRequestError(
                f"subgraph '{service}' answered HTTP {status} without data or errors"
            )
        return parsed

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
