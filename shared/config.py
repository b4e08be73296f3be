"""Service settings: one pydantic-settings class per service, validated at start."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal, TypeVar, get_origin

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ServiceSettings",
    "env_var_name",
    "load_settings",
    "settings_reference",
]

S = TypeVar("S", bound="ServiceSettings")

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_URL_ALIASES = {
    # Plain driver-less URLs are accepted and mapped onto the async drivers the kit uses.
    "postgres://": "postgresql+asyncpg://",
    "postgresql://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}
_DB_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclasses set `env_prefix` (e.g. ``IDENTITY_``)."""

    model_config = SettingsConfigDict(env_prefix="TRIBUTARY_", extra="ignore")

    service_name: str = Field("service", description="Name used in logs, metrics and traces.")
    environment: Literal["dev", "test", "prod"] = Field(
        "dev", description="dev, test or prod; prod turns GraphiQL/introspection off by default."
    )
    host: str = Field("127.0.0.1", description="Interface the HTTP server binds.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port the HTTP server binds.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL (sqlite+aiosqlite:// or postgresql+asyncpg://); "
        "empty = SQLite file <data_dir>/<service>.db.",
    )
    db_pool_size: int = Field(
        10, ge=1, le=1000,
        description="Connections kept in the pool. On PostgreSQL, hot paths that are one "
        "statement (a tip) use a second, asyncpg pool of up to pool size + overflow.",
    )
    db_max_overflow: int = Field(
        20, ge=0, le=1000, description="Extra connections allowed above the pool size."
    )
    db_pool_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for a pooled connection."
    )
    db_echo: bool = Field(False, description="Log every SQL statement.")
    redis_url: str | None = Field(
        None, description="redis:// URL; empty = in-memory KV, pub/sub and job broker."
    )
    graphiql: bool = Field(True, description="Serve GraphiQL on GET /graphql (default: not prod).")
    introspection: bool = Field(
        True, description="Allow schema introspection queries (default: not prod)."
    )
    max_body_size: int = Field(
        1_048_576, ge=1024, description="Largest accepted GraphQL request body, in bytes."
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    otlp_endpoint: str | None = Field(
        None, description="OTLP/HTTP traces endpoint; empty = tracing without export."
    )
    jwt_issuer: str = Field("tributary-identity", description="Expected/emitted `iss` claim.")
    jwt_audience: str = Field("tributary", description="Expected/emitted `aud` claim.")
    jwks_url: str | None = Field(
        None, description="Where verifiers fetch identity's JWKS (/.well-known/jwks.json)."
    )
    jwks_cache_seconds: float = Field(
        300.0, ge=0, description="How long a fetched JWKS is trusted before refetching."
    )
    jwt_dev_hs256_secret: str | None = Field(
        None, description="Dev only: also accept HS256 tokens with this secret (refused in prod)."
    )
    service_key: str | None = Field(
        None,
        description="This service's own Ed25519 key (PKCS#8 PEM) signing its service tokens; "
        "empty: dev/test generate <data_dir>/service-keys/<service>.pem; prod requires it.",
    )
    service_public_keys: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: service name -> base64url Ed25519 public key of each service "
        "whose calls this one accepts (`python -m shared.service_auth NAME...` makes them).",
    )
    peers: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: service name -> internal base URL of each service this one "
        "calls (e.g. {\"identity\": \"http://identity:5101\"}).",
    )
    internal_host: str = Field(
        "127.0.0.1", description="Interface of the internal API (service-to-service only)."
    )
    internal_port: int | None = Field(
        None, description="Port of the internal API; empty = the public port + 1000 "
        "(in test: any free port; 0 = any free port)."
    )
    data_dir: str = Field("./.data", description="Directory for SQLite files and dev keys.")
    outbox_poll_interval: float = Field(
        0.5, gt=0, description="Seconds between outbox relay polls."
    )
    outbox_dead_letter_attempts: int = Field(
        100, ge=1, description="Relay attempts after which an event with no consumer becomes "
        "a dead letter."
    )
    outbox_dead_letter_seconds: float = Field(
        86_400.0, gt=0, description="Age in seconds after which an event with no consumer "
        "becomes a dead letter."
    )
    outbox_max_wait_seconds: float = Field(
        60.0, gt=0, description="Longest wait between two relay attempts of an event that has "
        "no consumer yet (the wait doubles from 1 s up to this)."
    )

    @field_validator(
        "redis_url", "otlp_endpoint", "jwks_url", "jwt_dev_hs256_secret",
        "service_key", "internal_port", mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        # An exported-but-empty variable means "not configured", as in most 12-factor tooling.
        return None if isinstance(value, str) and value.strip() == "" else value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return level

    @field_validator("port")
    @classmethod
    def _check_port(cls, value: int) -> int:
        # A validator (not Field bounds) so subclasses that override the default keep the check.
        if not 0 <= value <= 65535:
            raise ValueError("must be between 0 and 65535")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value == "":
            return value
        for alias, canonical in _URL_ALIASES.items():
            if value.startswith(alias):
                value = canonical + value[len(alias):]
        if not value.startswith(_DB_SCHEMES):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> ServiceSettings:
        prod = self.environment == "prod"
        if "graphiql" not in self.model_fields_set:
            object.__setattr__(self, "graphiql", not prod)
        if "introspection" not in self.model_fields_set:
            object.__setattr__(self, "introspection", not prod)
        if self.database_url == "":
            path = Path(self.data_dir) / f"{self.service_name}.db"
            object.__setattr__(self, "database_url", f"sqlite+aiosqlite:///{path.as_posix()}")
        if self.internal_port is None:
            # Tests start many services at once: each takes any free internal port.
            beside = 0 < self.port <= 64535 and self.environment != "test"
            object.__setattr__(self, "internal_port", self.port + 1000 if beside else 0)
        if prod and self.service_key is None:
            raise ValueError("service_key: prod needs this service's own Ed25519 key")
        if prod and "gateway" not in self.service_public_keys:
            # Without it `_entities`/`_service` would answer anyone who reaches the service.
            raise ValueError("service_public_keys: prod needs the gateway's public key")
        if prod and self.jwt_dev_hs256_secret is not None:
            raise ValueError("jwt_dev_hs256_secret: HS256 tokens are a dev-only option")
        return self

    @property
    def env_prefix(self) -> str:
        return str(self.model_config.get("env_prefix", ""))


def env_var_name(cls: type[ServiceSettings], field: str) -> str:
    """The environment variable that sets `field` of `cls`."""
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def _explain(cls: type[ServiceSettings], error: ValidationError) -> str:
    lines = [f"invalid {cls.__name__} configuration:"]
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        message = item["msg"]
        field = loc[0] if loc else ""
        if field not in cls.model_fields and ":" in message:
            # Model-level checks name their field before a colon.
            field = message.split(":", 1)[0].rsplit(" ", 1)[-1]
        if field in cls.model_fields:
            lines.append(f"  {env_var_name(cls, field)}: {message}")
        else:
            lines.append(f"  {message}")
    return "\n".join(lines)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build `cls` from the environment (+ overrides); exit with a message naming bad variables."""
    try:
        return cls(**overrides)
    except ValidationError as error:
        raise SystemExit(_explain(cls, error)) from None


def _type_name(annotation: Any) -> str:
    plain = getattr(annotation, "__name__", None) if get_origin(annotation) is None else None
    text = plain or str(annotation)
    return (str(text).replace("typing.", "").replace("pydantic.types.", "")
            .replace("NoneType", "None"))


def settings_reference(cls: type[ServiceSettings], *, prefix: str | None = None,
                       own_only: bool = False) -> str:
    """A Markdown table of every setting of `cls`: variable, type, default, meaning.

    `own_only` lists just the fields a subclass adds to ServiceSettings.
    """
    env_prefix = prefix if prefix is not None else str(cls.model_config.get("env_prefix", ""))
    rows = ["| Variable | Type | Default | Meaning |", "|---|---|---|---|"]
    for name, field in cls.model_fields.items():
        if own_only and name in ServiceSettings.model_fields:
            continue
        default = field.get_default(call_default_factory=True)
        shown = "" if default in (None, "") else f"`{default}`"
        description = (field.description or "").replace("|", "\\|").replace("<", "&lt;")
        type_name = _type_name(field.annotation).replace("|", "\\|")
        rows.append(
            f"| `{env_prefix}{name.upper()}` | {type_name} | {shown} "
            f"| {description} |"
        )
    return "\n".join(rows)


README_BEGIN = "<!-- settings:begin (generated: python -m shared.config --write-readme) -->"
README_END = "<!-- settings:end -->"
SUBGRAPHS_BEGIN = "<!-- subgraph-settings:begin (generated: python -m shared.config --write-readme) -->"
SUBGRAPHS_END = "<!-- subgraph-settings:end -->"


def readme_settings_section() -> str:
    """The README's configuration table of the settings every service shares."""
    return "\n".join([README_BEGIN, settings_reference(ServiceSettings, prefix="<PREFIX>"),
                      README_END])


def readme_subgraph_section(root: Path) -> str:
    """Tables of the settings each subgraph adds (found by name: shared imports no subgraph)."""
    import importlib
    import inspect

    parts = [SUBGRAPHS_BEGIN]
    for config in sorted((root / "subgraphs").glob("*/config.py")):
        module = importlib.import_module(f"subgraphs.{config.parent.name}.config")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, ServiceSettings) and cls.__module__ == module.__name__:
                prefix = cls.model_config.get("env_prefix", "")
                parts += ["", f"#### {config.parent.name} (`{prefix}*`)", "",
                          settings_reference(cls, own_only=True)]
    parts.append(SUBGRAPHS_END)
    return "\n".join(parts)


def _replace(text: str, begin: str, end: str, section: str) -> str:
    start, stop = text.index(begin), text.index(end) + len(end)
    return text[:start] + section + text[stop:]


def write_readme(path: Path) -> bool:
    """Regenerate the settings tables in README `path`; True if it changed."""
    text = path.read_text(encoding="utf-8")
    updated = _replace(text, README_BEGIN, README_END, readme_settings_section())
    updated = _replace(updated, SUBGRAPHS_BEGIN, SUBGRAPHS_END,
                       readme_subgraph_section(path.parent))
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":  # pragma: no cover - documentation helper
    if "--write-readme" in sys.argv:
        # Through the importable module: under -m this file is __main__, and subgraph settings
        # subclass shared.config.ServiceSettings, not __main__.ServiceSettings.
        from shared.config import write_readme as _write_readme

        readme = Path(__file__).resolve().parent.parent / "README.md"
        print("README.md updated" if _write_readme(readme) else "README.md already current")
    else:
        sys.stdout.write(settings_reference(ServiceSettings, prefix="<PREFIX>") + "\n")
