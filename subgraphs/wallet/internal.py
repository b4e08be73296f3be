"""The wallet's internal escrow API for other services, served on the internal port only.

A hold moves a user's money, so the calling service's word is not enough: the request carries
the paying user's own credential (`x-user-authorization`, exactly what the user sent: `Bearer
<access token>` or `ApiKey <key>` with the `wallet:escrow` scope), and the payer is whoever
that credential proves. Capture, release and reads act only on holds the calling service
created. Every write carries an `Idempotency-Key`.
"""

from __future__ import annotations

from typing import Any

from shared.auth import ApiKeyResolver, Caller, TokenVerifier, authenticate_request
from shared.db import Database
from shared.errors import BadUserInputError, ForbiddenError, UnauthenticatedError
from shared.internal import InternalRequest, InternalRoute
from shared.references import USER, References
from subgraphs.wallet.services.escrow import (
    Capture,
    capture_hold,
    create_hold,
    get_hold,
    release_hold,
)

__all__ = ["ESCROW_CALLERS", "ESCROW_SCOPE", "USER_AUTHORIZATION_HEADER", "escrow_routes"]

# Bounties and prediction markets live in markets; no other service holds users' money.
ESCROW_CALLERS = frozenset({"markets"})
ESCROW_SCOPE = "wallet:escrow"
USER_AUTHORIZATION_HEADER = "x-user-authorization"


async def _payer(request: InternalRequest, verifier: TokenVerifier | None,
                 api_keys: ApiKeyResolver | None) -> str:
    proof = request.headers.get(USER_AUTHORIZATION_HEADER, "")
    if not proof:
        raise UnauthenticatedError("A hold needs the paying user's own credential",
                                   extensions={"reason": "USER_PROOF_REQUIRED"})
    caller: Caller = await authenticate_request({"authorization": proof}, verifier,
                                                api_key_resolver=api_keys)
    payer = caller.require_user()
    if caller.api_key_id is not None and not caller.has_scope(ESCROW_SCOPE):
        raise ForbiddenError(f"This API key lacks the {ESCROW_SCOPE} scope",
                             extensions={"reason": "INSUFFICIENT_SCOPE"})
    claimed = request.body.get("payerId")
    if claimed is not None and claimed != payer:
        raise ForbiddenError("payerId is not the user whose credential came with the hold",
                             extensions={"reason": "PAYER_MISMATCH"})
    return payer


def _captures(body: dict[str, Any]) -> list[Capture]:
    raw = body.get("captures")
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise BadUserInputError("captures must be a list of {recipientId, amountMinor}",
                                extensions={"field": "captures", "reason": "INVALID_CAPTURES"})
    return [Capture(recipient_id=c.get("recipientId"), amount=c.get("amountMinor")) for c in raw]


def escrow_routes(*, database: Database, verifier: TokenVerifier | None,
                  api_keys: ApiKeyResolver | None, references: References
                  ) -> list[InternalRoute]:
    async def hold(request: InternalRequest) -> dict[str, Any]:
        payer = await _payer(request, verifier, api_keys)
        body = request.body
        async with database.session() as session:
            view = await create_hold(
                session=session, service=request.caller, payer_id=payer,
                amount=body.get("amountMinor"), currency=str(body.get("currency", "")),
                reference=body.get("reference"),
                idempotency_key=request.headers.get("idempotency-key"),
            )
        return view.as_json()

    async def capture(request: InternalRequest) -> dict[str, Any]:
        captures = _captures(request.body)
        recipients = [c.recipient_id for c in captures if isinstance(c.recipient_id, str)]
        await references.require(USER, recipients, field_name="captures")
        async with database.session() as session:
            view = await capture_hold(
                session=session, service=request.caller,
                hold_id=request.path_params["hold_id"], captures=captures,
                fee=request.body.get("feeMinor") or 0,
                idempotency_key=request.headers.get("idempotency-key"),
            )
        return view.as_json()

    async def release(request: InternalRequest) -> dict[str, Any]:
        async with database.session() as session:
            view = await release_hold(
                session=session, service=request.caller,
                hold_id=request.path_params["hold_id"],
                idempotency_key=request.headers.get("idempotency-key"),
            )
        return view.as_json()

    async def show(request: InternalRequest) -> dict[str, Any]:
        async with database.session() as session:
            view = await get_hold(session=session, service=request.caller,
                                  hold_id=request.path_params["hold_id"])
        return view.as_json()

    def route(path: str, handler: Any, *methods: str) -> InternalRoute:
        return InternalRoute(path=path, handler=handler, callers=ESCROW_CALLERS,
                             methods=methods or ("POST",))

    return [
        route("/internal/escrow/holds", hold),
        route("/internal/escrow/holds/{hold_id}", show, "GET"),
        route("/internal/escrow/holds/{hold_id}/capture", capture),
        route("/internal/escrow/holds/{hold_id}/release", release),
    ]
