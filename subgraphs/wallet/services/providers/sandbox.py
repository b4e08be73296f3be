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

__all__ = ["SIGNATURE_HEADER", "SandboxProvider", "event_object", "parse_intent_event"]

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
        dispute_ref: str | None = None,
        dispute_status: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers the sandbox would POST to /webhooks/sandbox.

        Stripe's shapes: a PaymentIntent for `payment_intent.*`, a Charge whose
        `amount_refunded` is `amount` for `charge.refunded`, a Dispute for `charge.dispute.*`.
        """
        body = orjson.dumps({
            "id": event_id or f"evt_sbx_{secrets.token_hex(12)}",
            "type": event_type,
            "data": {"object": event_object(
                event_type, intent_ref=intent_ref, amount=amount, currency=currency,
                dispute_ref=dispute_ref, dispute_status=dispute_status,
            )},
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


def event_object(
    event_type: str, *, intent_ref: str, amount: int, currency: str,
    dispute_ref: str | None = None, dispute_status: str | None = None,
) -> dict[str, object]:
    """The `data.object` Stripe sends with `event_type` (the fields the wallet reads)."""
    cur = currency.lower()
    if event_type == "charge.refunded":
        return {"object": "charge", "id": f"ch_{intent_ref}", "payment_intent": intent_ref,
                "amount_refunded": amount, "currency": cur, "refunded": True}
    if event_type.startswith("charge.dispute."):
        return {"object": "dispute", "id": dispute_ref or f"dp_{intent_ref}",
                "charge": f"ch_{intent_ref}", "payment_intent": intent_ref, "amount": amount,
                "currency": cur, "status": dispute_status or "needs_response"}
    return {"object": "payment_intent", "id": intent_ref, "amount": amount, "currency": cur}


_KINDS = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "failed",
    "charge.refunded": "refunded",
    "charge.dispute.created": "dispute_opened",
    "charge.dispute.closed": "dispute_closed",
}


def _text(value: object, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_intent_event(body: bytes) -> ProviderEvent:
    """Stripe-shaped event JSON -> ProviderEvent (shared by sandbox and Stripe)."""
    try:
        event = orjson.loads(body)
        event_id = str(event["id"])
        event_type = str(event["type"])
        obj = event.get("data", {}).get("object", {}) or {}
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise WebhookRejectedError("malformed event payload") from None
    if not isinstance(obj, dict):
        obj = {}
    kind = _KINDS.get(event_type, "other")
    currency = obj.get("currency")
    common = {"event_id": event_id[:128], "event_type": event_type[:64], "kind": kind,
              "currency": currency.upper() if isinstance(currency, str) else None}
    if kind == "refunded":
        return ProviderEvent(**common, intent_ref=_text(obj.get("payment_intent"), 128),
                             amount=_int(obj.get("amount_refunded")))
    if kind in ("dispute_opened", "dispute_closed"):
        return ProviderEvent(**common, intent_ref=_text(obj.get("payment_intent"), 128),
                             amount=_int(obj.get("amount")), dispute_ref=_text(obj.get("id"), 128),
                             dispute_status=_text(obj.get("status"), 32))
    metadata = obj.get("metadata")
    wallet_intent_id = metadata.get("wallet_intent_id") if isinstance(metadata, dict) else None
    return ProviderEvent(**common, intent_ref=_text(obj.get("id"), 128), amount=_int(obj.get("amount")),
                         wallet_intent_id=_text(wallet_intent_id, 32))
