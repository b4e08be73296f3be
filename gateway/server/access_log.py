"""Request ids and access lines: one id per HTTP request, echoed back, and one log line for it."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.telemetry import request_id_var, sanitize_request_id

__all__ = ["OPERATION_KEY", "AccessLogMiddleware"]

logger = logging.getLogger("tributary.gateway.access")

# Where the GraphQL handler leaves the operation's name for the access line (scope["state"]).
OPERATION_KEY = "tributary.operation"
# Probes and scrapes would drown the requests a person reads.
_QUIET_PATHS = frozenset({"/health", "/metrics"})


class AccessLogMiddleware:
    """Echo a well-formed incoming x-request-id (or mint one), forward it, log the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"x-request-id"]
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = sanitize_request_id(incoming.decode("latin-1") if incoming else None)
        # the handler forwards this header to every subgraph: the same id in every log
        scope["headers"] = [*headers, (b"x-request-id", request_id.encode())]
        state = scope.setdefault("state", {})
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["path"] not in _QUIET_PATHS and not scope["path"].startswith("/_graphiql/"):
                _log(scope, status, time.perf_counter() - started, state.get(OPERATION_KEY))
            request_id_var.reset(token)


def _log(scope: Scope, status: int, elapsed: float, operation: str | None) -> None:
    # request_id comes from request_id_var, stamped on the record by shared.telemetry
    duration_ms = round(elapsed * 1000, 1)
    logger.info(
        "%s %s %s %d %.1fms", scope["method"], scope["path"], operation or "-", status, duration_ms,
        extra={"method": scope["method"], "path": scope["path"], "operation": operation,
               "status": status, "duration_ms": duration_ms},
    )
