"""Provider callbacks on the public port: Twilio's message status, signature verified."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.db import Database
from subgraphs.identity.messaging.twilio import verify_twilio_signature
from subgraphs.identity.runtime import IdentityRuntime
from subgraphs.identity.services.one_time_codes import record_delivery_status

__all__ = ["TWILIO_STATUS_PATH", "webhook_routes"]

TWILIO_STATUS_PATH = "/webhooks/twilio/status"
_MAX_BODY = 16_384


def webhook_routes(*, runtime: IdentityRuntime, database: Database) -> list[Route]:
    token = runtime.senders.twilio_auth_token
    url = runtime.settings.twilio_status_callback_url

    async def twilio_status(request: Request) -> Response:
        if token is None or not url:
            return _error(404, "NOT_FOUND", "Twilio callbacks are not configured.")
        body = await request.body()
        if len(body) > _MAX_BODY:
            return _error(413, "PAYLOAD_TOO_LARGE", "Callback body is too large.")
        form = await request.form()
        params = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        # Signed over the URL Twilio was given (the public one), not the one we were reached
        # on behind proxies.
        if not verify_twilio_signature(token, url, params,
                                       request.headers.get("x-twilio-signature")):
            return _error(403, "FORBIDDEN", "Signature does not verify.")
        sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
        if not sid or not status:
            return _error(400, "BAD_USER_INPUT", "MessageSid and MessageStatus are required.")
        async with database.session() as session:
            await record_delivery_status(session, provider_message_id=sid, status=status)
        return Response(status_code=204)

    return [Route(TWILIO_STATUS_PATH, twilio_status, methods=["POST"])]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status)
