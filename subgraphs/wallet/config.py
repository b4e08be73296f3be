"""Wallet settings (environment prefix `WALLET_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings

__all__ = ["WalletSettings"]


class WalletSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore")

    service_name: str = "wallet"
    port: int = 4103
    kv_prefix: str = Field("tributary:wallet:", description="Prefix of every KV key and channel.")
    migrate_on_startup: bool = Field(True, description="Run alembic upgrade head at startup.")
    cashout_sweep_seconds: float = Field(
        30.0, gt=0, description="How often unfinished cashouts are sent to the workers again."
    )
    reconcile_seconds: float = Field(
        3600.0, gt=0, description="How often the ledger reconciliation job runs."
    )
    encryption_keys: str | None = Field(
        None,
        description="Tip-message keys as `kid:base64(32 bytes),...`; the first encrypts. "
        "Dev/test generate one into <data_dir>/wallet_encryption.key; prod requires it.",
    )
    payment_provider: str = Field("sandbox", description="`sandbox` (default) or `stripe`.")
    sandbox_webhook_secret: str | None = Field(
        None, description="HMAC secret of the sandbox provider's webhooks (dev: generated)."
    )
    stripe_webhook_secret: str | None = Field(None, description="Stripe endpoint signing secret.")
    stripe_api_key: str | None = Field(None, description="Stripe secret API key (creates intents).")
    stripe_timeout_seconds: float = Field(
        15.0, gt=0, description="Longest wait for one Stripe API call (no transaction is open)."
    )
    deposit_settlement_hours: float = Field(
        72.0, ge=0,
        description="Hours a confirmed deposit stays settling (it cannot be tipped, held or "
        "cashed out) before it becomes available; 0 makes deposits available at once.",
    )
    webhook_tolerance_seconds: int = Field(300, ge=1, description="Max age of a signed webhook.")
    tip_limit_per_minute: int = Field(30, ge=1, description="Tips one user may send per minute.")
    tip_ip_limit_per_minute: int = Field(120, ge=1, description="Tips per client IP per minute.")
    cashout_limit_per_day: int = Field(5, ge=1, description="Cashouts one user may request per day.")
    suspicious_tip_minor: int = Field(
        100_000, ge=1, description="Tips at or above this many minor units go to moderation."
    )
    max_message_length: int = Field(500, ge=1, description="Max characters of a tip message.")
