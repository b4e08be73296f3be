"""Long-lived wallet collaborators (keys, payment providers, payout rail) built from settings."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from subgraphs.wallet.config import WalletSettings
from subgraphs.wallet.services.crypto import KeyRing, load_keyring
from subgraphs.wallet.services.providers import PaymentProvider, SandboxProvider, StripeProvider
from subgraphs.wallet.services.providers.payouts import PayoutProvider, SandboxPayouts

__all__ = ["WalletRuntime", "build_runtime"]

_SANDBOX_SECRET_FILE = "wallet_sandbox_webhook.secret"
log = logging.getLogger("tributary.wallet")


async def _not_wired(cashout_id: str) -> None:
    raise RuntimeError("no cashout worker is wired into this runtime")


@dataclass
class WalletRuntime:
    settings: WalletSettings
    keyring: KeyRing
    providers: dict[str, PaymentProvider]
    payouts: PayoutProvider
    sandbox: SandboxProvider | None = None
    # Set by the app: hands a committed cashout to the workers.
    enqueue_cashout: Callable[[str], Awaitable[None]] = field(default=_not_wired)

    @property
    def deposit_provider(self) -> PaymentProvider:
        return self.providers[self.settings.payment_provider]

    @property
    def settlement_hold(self) -> timedelta:
        return timedelta(hours=self.settings.deposit_settlement_hours)


def _sandbox_secret(settings: WalletSettings) -> str:
    if settings.sandbox_webhook_secret:
        return settings.sandbox_webhook_secret
    if settings.environment == "prod":
        # A secret nobody else knows: no sandbox webhook can be forged, so prod without a
        # configured provider simply cannot confirm deposits (and says so at startup).
        log.warning("no payment provider secret configured: deposits cannot be confirmed")
        return secrets.token_urlsafe(32)
    path = Path(settings.data_dir) / _SANDBOX_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def build_runtime(settings: WalletSettings) -> WalletRuntime:
    keyring = load_keyring(settings.encryption_keys, environment=settings.environment,
                           data_dir=settings.data_dir)
    tolerance = settings.webhook_tolerance_seconds
    providers: dict[str, PaymentProvider] = {}
    sandbox: SandboxProvider | None = None
    if settings.environment != "prod" or settings.payment_provider == "sandbox":
        sandbox = SandboxProvider(webhook_secret=_sandbox_secret(settings), tolerance=tolerance)
        providers["sandbox"] = sandbox
    if settings.stripe_webhook_secret:
        providers["stripe"] = StripeProvider(webhook_secret=settings.stripe_webhook_secret,
                                             api_key=settings.stripe_api_key, tolerance=tolerance,
                                             timeout=settings.stripe_timeout_seconds)
    if settings.payment_provider not in providers:
        raise SystemExit(
            f"WALLET_PAYMENT_PROVIDER={settings.payment_provider!r} is not configured "
            "(stripe needs WALLET_STRIPE_WEBHOOK_SECRET)"
        )
    return WalletRuntime(settings=settings, keyring=keyring, providers=providers,
                         payouts=SandboxPayouts(), sandbox=sandbox)
