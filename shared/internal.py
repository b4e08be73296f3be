"""Internal APIs: JSON routes only named services may call, on a port of their own.

A subgraph's public port serves GraphQL to the gateway; its internal port serves what other
services need (does this user exist, verify this API key, hold these funds). Each route names
the services allowed to call it, and the caller is whoever's key signed the service token
(`shared.service_auth`), so a route's `callers` is an allow-list of keys, not of claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.body import BodyTooLargeError, read_body
from shared.errors import (
    BadUserInputError,
    ForbiddenError,
    ServiceUnavailableError,
    TributaryError,
    UnauthenticatedError,
    error_class,
)
from shared.service_auth import SERVICE_TOKEN_HEADER, ServiceIdentity, ServiceKeyring

__all__ = [
    "InternalClient",
    "InternalHandler",
    "InternalRequest",
    "InternalRoute",
    "InternalServer",
    "internal_app",
]

log = logging.getLogger("tributary.internal")

_MAX_BODY = 64 * 1024
_STATUS = {
    "BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
    "CONFLICT": 409, "RATE_LIMITED": 429, "SERVICE_UNAVAILABLE": 503,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class InternalRequest:
    caller: str  # the service whose key signed the token
    body: dict[str, Any]
    path_params: Mapping[str, str]
    headers: Headers


InternalHandler = Callable[[InternalRequest], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, kw_only=True, slots=True)
class InternalRoute:
    path: str
    handler: InternalHandler
    callers: frozenset[str]
    methods: tuple[str, ...] = ("POST",)

    def __post_init__(self) -> None:
        assert self.callers, f"internal route {self.path} must name the services that may call it"


def _json_response(data: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error_response(error: TributaryError) -> Response:
    body = {"error": {**error.extensions, "code": error.code, "message": error.message}}
    return _json_response(body, _STATUS.get(error.code, 500))


async def _json_body(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return {}
    try:
        raw = await read_body(request, limit=_MAX_BODY)
        data = orjson.loads(raw or b"{}")
    except BodyTooLargeError:
        raise BadUserInputError("Request body too large", extensions={"reason": "TOO_LARGE"}) from None
    except orjson.JSONDecodeError:
        raise BadUserInputError("Request body must be JSON",
                                extensions={"reason": "INVALID_JSON"}) from None
    if not isinstance(data, dict):
        raise BadUserInputError("Request body must be a JSON object",
                                extensions={"reason": "INVALID_JSON"})
    return data


_CREDENTIAL = {"reason": "SERVICE_CREDENTIAL"}


def _verified_caller(request: Request, route: InternalRoute, keyring: ServiceKeyring) -> str:
    token = request.headers.get(SERVICE_TOKEN_HEADER, "")
    if not token:
        raise UnauthenticatedError("Service token required", extensions=_CREDENTIAL)
    try:
        caller = keyring.verify(token)
    except UnauthenticatedError as error:
        raise UnauthenticatedError(error.message, extensions=_CREDENTIAL) from None
    if caller not in route.callers:
        raise ForbiddenError(f"Service {caller!r} may not call {route.path}",
                             extensions=_CREDENTIAL)
    return caller


def _endpoint(route: InternalRoute, keyring: ServiceKeyring
              ) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            caller = _verified_caller(request, route, keyring)
            body = await _json_body(request)
            internal = InternalRequest(caller=caller, body=body, headers=request.headers,
                                       path_params=request.path_params)
            return _json_response(await route.handler(internal))
        except TributaryError as error:
            return _error_response(error)
        except Exception:
            log.exception("internal route %s failed", route.path)
            return _json_response({"error": {"code": "INTERNAL_SERVER_ERROR",
                                             "message": "Internal server error"}}, 500)
    return endpoint


def internal_app(routes: Sequence[InternalRoute], *, keyring: ServiceKeyring) -> Starlette:
    """The ASGI app of a service's internal port."""
    paths = [r.path for r in routes]
    assert len(paths) == len(set(paths)), "two internal routes share a path"
    return Starlette(routes=[Route(r.path, _endpoint(r, keyring), methods=list(r.methods))
                             for r in routes])


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever serves the public app."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class InternalServer:
    """Serves the internal app beside the public one (started by the public app's lifespan)."""

    app: Starlette
    host: str
    port: int
    _server: _QuietServer | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _socket: socket.socket | None = field(default=None, init=False)

    async def start(self) -> str:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as error:
            sock.close()
            raise SystemExit(f"internal API port {self.host}:{self.port} is not free "
                             f"({error.strerror}); set <PREFIX>INTERNAL_PORT") from None
        self._socket = sock
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off",
                                access_log=False, log_config=None, timeout_graceful_shutdown=2)
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]),
                                         name="internal-api")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("internal API stopped before starting")
            await asyncio.sleep(0.005)
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None and not self._task.done():
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            if not self._task.done():
                self._server.force_exit = True
                self._task.cancel()
        if self._socket is not None:
            self._socket.close()


class InternalClient:
    """Calls other services' internal APIs with this service's own credential."""

    def __init__(self, identity: ServiceIdentity, peers: Mapping[str, str], *,
                 timeout: float = 3.0) -> None:
        self.identity = identity
        self.peers = dict(peers)
        self.timeout = timeout
        self._http: aiohttp.ClientSession | None = None

    def knows(self, service: str) -> bool:
        return service in self.peers

    async def call(self, service: str, path: str, body: Mapping[str, Any] | None = None, *,
                   headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """POST `body` to `service`'s internal `path`; its coded errors are raised as ours.

        An unreachable or failing peer raises ServiceUnavailableError: callers fail closed.
        """
        base = self.peers.get(service)
        if base is None:
            raise ServiceUnavailableError(f"The {service} service is not configured here",
                                          extensions={"service": service})
        token = self.identity.issue(audience=service)
        sent = {**(headers or {}), SERVICE_TOKEN_HEADER: token,
                "content-type": "application/json"}
        try:
            async with self._session().post(base.rstrip("/") + path, data=orjson.dumps(body or {}),
                                            headers=sent) as response:
                raw = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            log.warning("internal call to %s %s failed: %r", service, path, error)
            raise ServiceUnavailableError(f"The {service} service is unavailable",
                                          extensions={"service": service}) from None
        return _decode(service, path, status, raw)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                cookie_jar=aiohttp.DummyCookieJar())
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _decode(service: str, path: str, status: int, raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if status == 200 and isinstance(data, dict):
        return data
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or status >= 500:
        log.warning("internal call to %s %s answered %s", service, path, status)
        raise ServiceUnavailableError(f"The {service} service is unavailable",
                                      extensions={"service": service})
    code, message = str(error.get("code")), str(error.get("message", ""))
    if error.get("reason") == _CREDENTIAL["reason"]:
        # Our own credential was refused: a deployment fault, not the user's.
        log.error("%s refused this service's credential on %s: %s", service, path, message)
        raise ServiceUnavailableError(f"The {service} service is unavailable",
                                      extensions={"service": service})
    extensions = {k: v for k, v in error.items() if k not in ("code", "message")}
    raise error_class(code)(message, extensions=extensions)
