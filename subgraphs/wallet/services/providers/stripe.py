"""Stripe adapter: PaymentIntents over the REST API, webhooks verified by `Stripe-Signature`."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from subgraphs.wallet.services.providers.base import (
    ProviderError,
    ProviderEvent,
    ProviderIntent,
    ProviderRefusedError,
    ProviderUnavailableError,
    WebhookRejectedError,
    verify_signature,
)
from subgraphs.wallet.services.providers.sandbox import parse_intent_event

__all__ = ["STRIPE_SIGNATURE_HEADER", "StripeProvider"]

STRIPE_SIGNATURE_HEADER = "stripe-signature"


class StripeProvider:
    name = "stripe"

    def __init__(
        self,
        *,
        webhook_secret: str,
        api_key: str | None = None,
        api_base: str = "https://api.stripe.com",
        tolerance: int = 300,
        timeout: float = 15.0,
    ) -> None:
        assert webhook_secret, "Stripe webhook signing secret is required"
        assert timeout > 0, "the Stripe timeout must be positive"
        self._secret = webhook_secret
        self._api_key = api_key
        self._api_base = api_base.rstrip("/")
        self._tolerance = tolerance
        self._timeout = timeout

    async def create_intent(
        self, *, intent_id: str, amount: int, currency: str, idempotency_key: str
    ) -> ProviderIntent:
        """Create (or, for a repeated idempotency key, fetch again) the PaymentIntent.

        Raises ProviderRefusedError for a 4xx answer, ProviderUnavailableError when there is no
        usable answer (timeout, connection error, 429, 5xx): then asking again is safe.
        """
        if not self._api_key:
            raise ProviderError("Stripe API key is not configured")
        try:
            async with aiohttp.ClientSession() as http:
                response = await http.post(
                    f"{self._api_base}/v1/payment_intents",
                    data={"amount": str(amount), "currency": currency.lower(),
                          "metadata[wallet_intent_id]": intent_id},
                    headers={"Authorization": f"Bearer {self._api_key}",
                             "Idempotency-Key": idempotency_key},
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                )
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise ProviderUnavailableError(f"Stripe did not answer: {type(error).__name__}") from None
        if response.status == 429 or response.status >= 500:
            raise ProviderUnavailableError(f"Stripe answered HTTP {response.status}")
        if response.status >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            raise ProviderRefusedError(f"Stripe refused the payment intent: {error}")
        if not isinstance(payload, dict) or "id" not in payload:
            raise ProviderUnavailableError("Stripe answered without a payment intent id")
        return ProviderIntent(provider_ref=str(payload["id"]), client_secret=payload.get("client_secret"))

    def verify_webhook(self, *, body: bytes, headers: Mapping[str, str], now: float) -> ProviderEvent:
        verify_signature(
            secret=self._secret, header=headers.get(STRIPE_SIGNATURE_HEADER), body=body, now=now,
            tolerance=self._tolerance,
        )
        event = parse_intent_event(body)
        if not event.event_id.startswith("evt_"):
            raise WebhookRejectedError("not a Stripe event id")
        return event
