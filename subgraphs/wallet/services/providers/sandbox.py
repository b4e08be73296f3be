"""The built-in sandbox provider: intents live here, confirmations arrive as signed webhooks."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping

import orjson

from subgraphs.wallet.services.providers.base import (
    ProviderEvent,
    ProviderIntent,
    WebhookRejectedError,
    sign_payload,
    verify_signature,
)

__all__ = ["SIGNATURE_HEADER", "SandboxProvider"]

SIGNATURE_HEADER = "sandbox-signature"


class SandboxProvider:
    """Pretends to be a card processor; `build_webhook` plays the processor calling us back."""

    name = "sandbox"

    def __init__(self, *, webhook_secret: str, tolerance: int = 300) -> None:
        assert len(webhook_secret) >= 16, "sandbox webhook secret must be at least 16 characters"
        self._secret = webhook_secret
        self._tolerance = tolerance

    async def create_intent(
        self, *, intent_id: str, amount: int, currency: str, idempotency_key: str
    ) -> ProviderIntent:
        # Deterministic per idempotency key, as a real provider's idempotent create would be.
        ref = "pi_sbx_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return ProviderIntent(provider_ref=ref, client_secret=f"{ref}_secret_{secrets.token_hex(8)}")

    def build_webhook(
        self,
        *,
        intent_ref: str,
        amount: int,
        currency: str,
        event_type: str = "payment_intent.succeeded",
        event_id: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers the sandbox would POST to /webhooks/sandbox."""
        body = orjson.dumps({
            "id": event_id or f"evt_sbx_{secrets.token_hex(12)}",
            "type": event_type,
            "data": {"object": {"id": intent_ref, "amount": amount, "currency": currency.lower()}},
        })
        ts = int(time.time()) if timestamp is None else timestamp
        header = f"t={ts},v1={sign_payload(self._secret, ts, body)}"
        return body, {SIGNATURE_HEADER: header, "content-type": "application/json"}

    def verify_webhook(self, *, body: bytes, headers: Mapping[str, str], now: float) -> ProviderEvent:
        verify_signature(
            secret=self._secret, header=headers.get(SIGNATURE_HEADER), body=body, now=now,
            tolerance=self._tolerance,
        )
        return parse_intent_event(body)


def parse_intent_event(body: bytes) -> ProviderEvent:
    """Stripe-shaped event JSON -> ProviderEvent (shared by sandbox and Stripe)."""
    try:
        event = orjson.loads(body)
        event_id = str(event["id"])
        event_type = str(event["type"])
        obj = event.get("data", {}).get("object", {}) or {}
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise WebhookRejectedError("malformed event payload") from None
    kind = {
        "payment_intent.succeeded": "succeeded",
        "payment_intent.payment_failed": "failed",
        "payment_intent.canceled": "failed",
    }.get(event_type, "other")
    amount = obj.get("amount") if isinstance(obj, dict) else None
    currency = obj.get("currency") if isinstance(obj, dict) else None
    ref = obj.get("id") if isinstance(obj, dict) else None
    return ProviderEvent(
        event_id=event_id[:128],
        event_type=event_type[:64],
        kind=kind,
        intent_ref=str(ref)[:128] if ref is not None else None,
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=str(currency).upper() if isinstance(currency, str) else None,
    )
