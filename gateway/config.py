"""Gateway settings: environment variables with the GATEWAY_ prefix, or command-line flags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    environment: Literal["dev", "test", "prod"] = Field(
        default="dev", description="dev, test or prod; prod allows CORS only from GATEWAY_CORS_ORIGINS"
    )
    supergraph: str | None = Field(default=None, description="Path of the supergraph SDL to serve")
    host: str = Field(default="127.0.0.1", description="Interface the gateway binds")
    port: int = Field(default=4000, description="TCP port the gateway binds")
    graphiql: bool = Field(default=True, description="Serve GraphiQL on GET /graphql to browsers")
    introspection: bool = Field(default=True, description="Answer __schema/__type queries")
    subgraph_urls: dict[str, str] = Field(
        default_factory=dict, description='Subgraph URL overrides, JSON: {"name": "http://..."}'
    )
    propagate_headers: list[str] = Field(
        default_factory=lambda: ["authorization", "x-request-id", "x-api-key"],
        description="Request headers forwarded to every subgraph",
    )
    subgraph_timeout_seconds: float = Field(default=30.0, description="Per subgraph request; past it the fetch fails with SUBGRAPH_FETCH_FAILED")
    plan_cache_size: int = Field(default=1000, description="Parsed, validated and planned operations kept (LRU)")
    override_labels: list[str] = Field(
        default_factory=list,
        description='Progressive @override labels to treat as active, JSON: ["beta"] '
        '(a "percent(n)" label is active for n% of requests by itself)',
    )
    max_depth: int = Field(default=25, description="Deepest selection accepted (MAX_DEPTH_EXCEEDED)")
    max_aliases: int = Field(default=50, description="Most aliases in one operation (MAX_ALIASES_EXCEEDED)")
    max_tokens: int = Field(default=15_000, description="Most lexical tokens in one document (MAX_TOKENS_EXCEEDED)")
    max_body_bytes: int = Field(default=1_048_576, description="Largest request body (HTTP 413 above)")
    dedupe_in_flight: bool = Field(default=True, description="Share identical in-flight subgraph queries (never mutations)")
    poll_interval_seconds: float = Field(default=1.0, description="How often the supergraph file (or, in dev, the subgraphs) is checked for changes")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    persisted_queries: bool = Field(default=True, description="Automatic persisted queries (APQ)")
    persisted_queries_size: int = Field(default=1000, description="Persisted documents kept (LRU)")
    cors_origins: list[str] = Field(
        default_factory=list, description='Origins allowed by CORS, JSON: ["https://app.example"]'
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description='CIDRs of proxies in front of the gateway, JSON: ["10.0.0.0/8"]; through them '
        "the client is the rightmost X-Forwarded-For hop that is not a listed proxy",
    )
    service_key: str | None = Field(
        default=None,
        description="The gateway's own Ed25519 service key (PKCS#8 PEM) for its calls to "
        "subgraphs; empty: none is sent (dev generates one)",
    )
    cors_allow_credentials: bool = Field(default=False, description="Allow cookies/credentials on CORS requests")
    cors_allow_localhost: bool | None = Field(
        default=None,
        description="Also allow any http(s)://localhost, 127.0.0.1 or [::1] origin, any port (default: not prod)",
    )

    # -- authentication of subscription connections (tokens are forwarded unverified when unset)
    jwks_url: str | None = Field(default=None, description="Identity's JWKS; enables token checks")
    jwt_issuer: str = Field(default="tributary-identity", description="Expected `iss` of verified tokens")
    jwt_audience: str = Field(default="tributary", description="Expected `aud` of verified tokens")
    jwks_cache_seconds: float = Field(default=300.0, description="How long a fetched JWKS is trusted")
    jwt_dev_hs256_secret: str | None = Field(default=None, description="Dev only: HS256 secret")

    # -- authorization (@authenticated, @requiresScopes, @policy), decided before planning
    authorization_mode: Literal["filter", "reject"] = Field(
        default="filter",
        description="filter: fields the caller may not read answer null with UNAUTHORIZED_FIELD_OR_TYPE; "
        "reject: such a request is refused whole (HTTP 403)",
    )
    policy_modules: list[str] = Field(
        default_factory=list,
        description='Python modules whose register(registry) adds @policy implementations, JSON: ["myapp.policies"]',
    )
    session_scopes: list[str] = Field(
        default_factory=lambda: ["read", "write"],
        description="Scopes of a signed-in user's own token (one with no API key and no scope/scp claim)",
    )
    identity_internal_url: str | None = Field(
        default=None,
        description="Identity's internal API, where the gateway verifies API keys with its service key",
    )
    api_key_cache_seconds: float = Field(default=10.0, description="How long identity's verdict on an API key is kept")

    # -- demand control (@cost, @listSize): static cost, before any fetch
    demand_control_mode: Literal["off", "measure", "enforce"] = Field(
        default="measure",
        description="off; measure: estimate every operation's cost (metrics); enforce: also refuse "
        "operations over GATEWAY_MAX_COST with COST_ESTIMATED_TOO_EXPENSIVE",
    )
    max_cost: int = Field(default=10_000, description="Highest estimated cost accepted in enforce mode")
    default_list_size: int = Field(
        default=10, description="Assumed length of a list with no @listSize slicing argument or assumedSize"
    )
    cost_in_extensions: bool = Field(default=False, description="Report the estimated cost in the response's extensions.cost")

    # -- rate limits per client (API key, else user, else client address)
    rate_limit_per_client: int = Field(
        default=0, description="Requests one client may make per window (0: no limit); past it HTTP 429 RATE_LIMITED with Retry-After"
    )
    rate_limit_window_seconds: float = Field(default=60.0, description="Length of a rate-limit window")
    redis_url: str | None = Field(
        default=None, description="Redis shared by the replicas for rate limits; unset or unreachable: counted in memory"
    )

    # -- subscriptions (WebSocket graphql-transport-ws / graphql-ws, and SSE)
    subscription_init_timeout_seconds: float = Field(default=10.0, description="WebSocket connection_init deadline (close 4408)")
    subscription_keepalive_seconds: float = Field(default=15.0, description="Ping/keep-alive interval to clients")
    max_subscriptions_per_connection: int = Field(default=100, description="Concurrent subscriptions on one connection")
    max_connections_per_user: int = Field(default=20, description="Concurrent subscription connections per caller")
    subgraph_heartbeat_seconds: float = Field(default=20.0, description="Ping interval on upstream subgraph WebSockets")
    subscription_dedupe: bool = Field(
        default=True, description="Share one upstream subscription among identical ones (same headers)"
    )
    subscription_queue_size: int = Field(
        default=256, description="Results a subscriber may fall behind before it is ended"
    )
    subscription_urls: dict[str, str] = Field(
        default_factory=dict, description='WebSocket URL overrides per subgraph, JSON: {"name": "ws://..."}'
    )

    @model_validator(mode="after")
    def _defaults_by_environment(self) -> GatewaySettings:
        if self.cors_allow_localhost is None:
            self.cors_allow_localhost = self.environment != "prod"
        return self


README_BEGIN = "<!-- gateway-settings:begin (generated: python -m gateway.config --write-readme) -->"
README_END = "<!-- gateway-settings:end -->"


def readme_table() -> str:
    """The README's gateway settings table, generated so it cannot drift from this class."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, info in GatewaySettings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = "" if default in (None, "", [], {}) else f"`{default}`"
        rows.append(f"| `GATEWAY_{name.upper()}` | {shown} | {(info.description or '').replace('|', '/')} |")
    return "\n".join([README_BEGIN, *rows, README_END])


def _write_readme(path: str = "README.md") -> None:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text[:start] + readme_table() + text[end:])


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write-readme"]:
        _write_readme()
    else:
        print(readme_table())
