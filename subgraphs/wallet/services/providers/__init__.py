"""Payment providers behind one Protocol: the built-in sandbox and a Stripe adapter."""

from subgraphs.wallet.services.providers.base import (
    PaymentProvider,
    ProviderError,
    ProviderEvent,
    ProviderIntent,
    ProviderRefusedError,
    ProviderUnavailableError,
    WebhookRejectedError,
    parse_signature_header,
    sign_payload,
)
from subgraphs.wallet.services.providers.sandbox import SandboxProvider
from subgraphs.wallet.services.providers.stripe import StripeProvider

__all__ = [
    "PaymentProvider",
    "ProviderError",
    "ProviderEvent",
    "ProviderIntent",
    "ProviderRefusedError",
    "ProviderUnavailableError",
    "SandboxProvider",
    "StripeProvider",
    "WebhookRejectedError",
    "parse_signature_header",
    "sign_payload",
]
