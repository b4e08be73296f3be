"""Markets settings (environment prefix `MARKETS_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings

__all__ = ["MarketsSettings"]


class MarketsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MARKETS_", extra="ignore")

    service_name: str = "markets"
    port: int = 4105
    kv_prefix: str = Field("tributary:markets:", description="Prefix of every KV key and channel.")
    migrate_on_startup: bool = Field(True, description="Run alembic upgrade head at startup.")
    bounty_fee_bps: int = Field(
        500, ge=0, le=5000,
        description="Platform fee on a bounty payout, in basis points of each winner's reward "
        "(captured to the wallet's fee account).",
    )
    stale_sweep_seconds: float = Field(
        60.0, gt=0,
        description="How often the stale-bounty job expires open bounties past their deadline "
        "and retries unfinished escrow releases and captures.",
    )
