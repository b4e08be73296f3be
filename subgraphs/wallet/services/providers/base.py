"""The payment-provider seam and the `t=...,v1=...` HMAC signature scheme both providers use."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "PaymentProvider",
    "ProviderError",
    "ProviderEvent",
    "ProviderIntent",
    "ProviderRefusedError",
    "ProviderUnavailableError",
    "WebhookRejectedError",
    "parse_signature_header",
    "sign_payload",
    "verify_signature",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class ProviderIntent:
    provider_ref: str
    client_secret: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ProviderEvent:
    """A verified webhook, normalised.

    `kind` is "succeeded" or "failed" (a payment intent), "refunded" (`amount` is the charge's
    cumulative refunded amount), "dispute_opened" / "dispute_closed" (`amount` is the disputed
    amount, `dispute_ref` the dispute, `dispute_status` its outcome), or "other".
    `intent_ref` is always the provider's payment intent id.
    """

    event_id: str
    event_type: str
    kind: str
    intent_ref: str | None
    amount: int | None
    currency: str | None
    wallet_intent_id: str | None = None  # our intent id, from the intent's metadata
    dispute_ref: str | None = None
    dispute_status: str | None = None


class ProviderError(RuntimeError):
    """A provider call did not produce an intent."""


class ProviderRefusedError(ProviderError):
    """The provider answered and refused (4xx): asking again with the same request will not help."""


class ProviderUnavailableError(ProviderError):
    """No usable answer (timeout, connection error, 5xx, 429): safe to ask again with the same key."""


class WebhookRejectedError(Exception):
    """Bad signature, stale timestamp or malformed payload: answer 400, change nothing."""


class PaymentProvider(Protocol):
    name: str

    async def create_intent(
        self, *, intent_id: str, amount: int, currency: str, idempotency_key: str
    ) -> ProviderIntent: ...

    def verify_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: float
    ) -> ProviderEvent: ...


def sign_payload(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex (Stripe's v1 scheme)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    """`t=1700000000,v1=abc,v1=def` -> (1700000000, ["abc", "def"])."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookRejectedError("malformed signature timestamp") from None
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejectedError("signature header lacks t= or v1=")
    return timestamp, signatures


def verify_signature(
    *, secret: str, header: str | None, body: bytes, now: float, tolerance: int
) -> None:
    if not header:
        raise WebhookRejectedError("missing signature header")
    timestamp, signatures = parse_signature_header(header)
    # The timestamp is signed too, so an old delivery cannot be re-sent with a fresh one.
    if abs(now - timestamp) > tolerance:
        raise WebhookRejectedError("signature timestamp outside the tolerance window")
    expected = sign_payload(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookRejectedError("signature mismatch")
