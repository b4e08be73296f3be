"""HTTP endpoints payment providers call: /webhooks/<provider>."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.body import BodyTooLargeError, read_body
from shared.db import Database
from subgraphs.wallet.services.deposits import handle_webhook
from subgraphs.wallet.services.providers.base import PaymentProvider, WebhookRejectedError

__all__ = ["MAX_WEBHOOK_BYTES", "webhook_routes"]

log = logging.getLogger("tributary.wallet.webhooks")
MAX_WEBHOOK_BYTES = 256 * 1024


def webhook_routes(
    *,
    database: Database,
    providers: Mapping[str, PaymentProvider],
    settlement_hold: timedelta,
    clock: Callable[[], float] = time.time,
) -> list[Route]:
    async def receive(request: Request) -> JSONResponse:
        provider = providers.get(request.path_params["provider"])
        if provider is None:
            return JSONResponse({"error": "unknown provider"}, status_code=404)
        try:
            body = await read_body(request, limit=MAX_WEBHOOK_BYTES)
        except BodyTooLargeError:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            async with database.session() as session:
                outcome = await handle_webhook(
                    session=session, provider=provider, body=body, headers=headers, now=clock(),
                    settlement_hold=settlement_hold,
                )
        except WebhookRejectedError as error:
            log.warning("webhook refused from %s: %s", provider.name, error)
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"received": True, "eventId": outcome.event_id, "outcome": outcome.outcome})

    return [Route("/webhooks/{provider}", receive, methods=["POST"])]
