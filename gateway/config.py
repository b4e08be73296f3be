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
    persisted_queries: bool = Field(default=True, description="Automatic persisted queries (APQ)")
    persisted_queries_size: int = 1000
    cors_origins: list[str] = Field(
        default_factory=list, description='Origins allowed by CORS, JSON: ["https://app.example"]'
    )
    cors_allow_credentials: bool = False

    # -- authentication of subscription connections (tokens are forwarded unverified when unset)
    jwks_url: str | None = Field(default=None, description="Identity's JWKS; enables token checks")
    jwt_issuer: str = "tributary-identity"
    jwt_audience: str = "tributary"
    jwks_cache_seconds: float = 300.0
    jwt_dev_hs256_secret: str | None = Field(default=None, description="Dev only: HS256 secret")

    # -- subscriptions (WebSocket graphql-transport-ws / graphql-ws, and SSE)
    subscription_init_timeout_seconds: float = 10.0
    subscription_keepalive_seconds: float = 15.0
    max_subscriptions_per_connection: int = 100
    max_connections_per_user: int = 20
    subgraph_heartbeat_seconds: float = 20.0
    subscription_dedupe: bool = Field(
        default=True, description="Share one upstream subscription among identical ones (same headers)"
    )
    subscription_queue_size: int = Field(
        default=256, description="Results a subscriber may fall behind before it is ended"
    )
    subscription_urls: dict[str, str] = Field(
        default_factory=dict, description='WebSocket URL overrides per subgraph, JSON: {"name": "ws://..."}'
    )
