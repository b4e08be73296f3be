"""The internal escrow API for other subgraphs (`/internal/escrow/...`), service-authenticated.

Never part of the public GraphQL schema. Callers present a service token
(`Authorization: Bearer <token>` or `x-service-token`) minted with the shared
`service_token_secret`, and an `Idempotency-Key` header on every write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth import ServiceTokens
from shared.db import Database
from shared.errors import BadUserInputError, TributaryError, UnauthenticatedError
from subgraphs.wallet._http import BodyTooLargeError, read_body
from subgraphs.wallet.services.escrow import (
    Capture,
    capture_hold,
    create_hold,
    get_hold,
    release_hold,
)

__all__ = ["escrow_routes"]

_STATUS = {
    "BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
    "CONFLICT": 409, "RATE_LIMITED": 429,
}
_MAX_BODY = 64 * 1024

Handler = Callable[[Request, str], Awaitable[dict[str, Any]]]


def escrow_routes(*, database: Database, service_token_secret: str | None) -> list[Route]:
    tokens = ServiceTokens(service_token_secret) if service_token_secret else None

    def authenticated(handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                service = _authenticate(request, tokens)
                return JSONResponse(await handler(request, service))
            except TributaryError as error:
                return JSONResponse(
                    {"error": {"code": error.code, "message": error.message, **error.extensions}},
                    status_code=_STATUS.get(error.code, 500),
                )
        return endpoint

    async def hold(request: Request, service: str) -> dict[str, Any]:
        body = await _json(request)
        async with database.session() as session:
            view = await create_hold(
                session=session, service=service, payer_id=body.get("payerId"),
                amount=body.get("amountMinor"), currency=str(body.get("currency", "")),
                reference=body.get("reference"), idempotency_key=request.headers.get("idempotency-key"),
            )
        return view.as_json()

    async def capture(request: Request, service: str) -> dict[str, Any]:
        body = await _json(request)
        raw = body.get("captures")
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            raise BadUserInputError("captures must be a list of {recipientId, amountMinor}",
                                    extensions={"field": "captures", "reason": "INVALID_CAPTURES"})
        captures = [Capture(recipient_id=c.get("recipientId"), amount=c.get("amountMinor")) for c in raw]
        async with database.session() as session:
            view = await capture_hold(
                session=session, service=service, hold_id=request.path_params["hold_id"],
                captures=captures, fee=body.get("feeMinor") or 0,
                idempotency_key=request.headers.get("idempotency-key"),
            )
        return view.as_json()

    async def release(request: Request, service: str) -> dict[str, Any]:
        async with database.session() as session:
            view = await release_hold(
                session=session, service=service, hold_id=request.path_params["hold_id"],
                idempotency_key=request.headers.get("idempotency-key"),
            )
        return view.as_json()

    async def show(request: Request, service: str) -> dict[str, Any]:
        async with database.session() as session:
            view = await get_hold(session=session, service=service, hold_id=request.path_params["hold_id"])
        return view.as_json()

    return [
        Route("/internal/escrow/holds", authenticated(hold), methods=["POST"]),
        Route("/internal/escrow/holds/{hold_id}", authenticated(show), methods=["GET"]),
        Route("/internal/escrow/holds/{hold_id}/capture", authenticated(capture), methods=["POST"]),
        Route("/internal/escrow/holds/{hold_id}/release", authenticated(release), methods=["POST"]),
    ]


def _authenticate(request: Request, tokens: ServiceTokens | None) -> str:
    if tokens is None:
        raise UnauthenticatedError("The internal API is disabled: no service token secret configured")
    token = request.headers.get("x-service-token") or ""
    if not token:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" else ""
    if not token:
        raise UnauthenticatedError("Service token required")
    return _service(tokens, token)


def _service(tokens: ServiceTokens, token: str) -> str:
    caller = tokens.verify(token)
    assert caller.service is not None
    return caller.service


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await read_body(request, limit=_MAX_BODY)
    except BodyTooLargeError:
        raise BadUserInputError("Request body too large", extensions={"reason": "TOO_LARGE"}) from None
    try:
        data = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise BadUserInputError("Request body must be JSON", extensions={"reason": "INVALID_JSON"}) from None
    if not isinstance(data, dict):
        raise BadUserInputError("Request body must be a JSON object", extensions={"reason": "INVALID_JSON"})
    return data
