"""Gateway settings: environment variables with the GATEWAY_ prefix, or command-line flags."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    supergraph: str | None = Field(default=None, description="Path of the supergraph SDL to serve")
    host: str = "127.0.0.1"
    port: int = 4000
    graphiql: bool = True
    introspection: bool = True
    subgraph_urls: dict[str, str] = Field(
        default_factory=dict, description='Subgraph URL overrides, JSON: {"name": "http://..."}'
    )
    propagate_headers: list[str] = Field(
        default_factory=lambda: ["authorization", "x-request-id", "x-api-key"],
        description="Request headers forwarded to every subgraph",
    )
    subgraph_timeout_seconds: float = 30.0
    plan_cache_size: int = 1000
    max_depth: int = 25
    max_aliases: int = 50
    max_tokens: int = 15_000
    max_body_bytes: int = 1_048_576
    dedupe_in_flight: bool = True
    poll_interval_seconds: float = 1.0
    log_level: str = "INFO"
