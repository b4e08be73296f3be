"""Settings of the social subgraph (environment prefix ``SOCIAL_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings

__all__ = ["SocialSettings"]


class SocialSettings(ServiceSettings):
    """Social service settings; every field is read from ``SOCIAL_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="SOCIAL_", extra="ignore")

    service_name: str = Field("social", description="Name used in logs, metrics and traces.")
    port: int = Field(4102, ge=0, le=65535, description="TCP port the HTTP server binds.")
    kv_prefix: str = Field("tributary:social:", description="Prefix of every KV key and channel.")
    feed_cache_ttl: int = Field(
        15, ge=0, description="Seconds a cached feed page lives (0 = no feed cache)."
    )
    typing_ttl: int = Field(6, ge=1, description="Seconds a typing indicator lasts unless renewed.")
    presence_ttl: int = Field(
        60, ge=1, description="Seconds a presence heartbeat lasts before the user is offline."
    )
    migrate_on_startup: bool = Field(
        True, description="Run the social migrations (alembic upgrade head) when the app starts."
    )
    message_rate_limit: int = Field(
        60, ge=0, description="Messages a user may send per 10 seconds (0 = unlimited)."
    )
    write_rate_limit: int = Field(
        120, ge=0,
        description="Posts, comments, reactions and follows a user may make per minute (0 = unlimited).",
    )
    max_page_size: int = Field(100, ge=1, le=1000, description="Largest `first` accepted.")
    moderation_post_policy: Literal["open", "closed"] = Field(
        "open", description="When moderation cannot answer a post's check: `open` publishes "
        "the post unchecked, `closed` refuses it (SERVICE_UNAVAILABLE). Default: `closed` in "
        "prod, `open` elsewhere.",
    )
    moderation_comment_policy: Literal["open", "closed"] = Field(
        "open", description="The same for comments (default: `closed` in prod).",
    )

    @model_validator(mode="after")
    def _closed_in_prod(self) -> SocialSettings:
        # Secure by default: in prod, nothing goes out unchecked unless the operator says so.
        if self.environment == "prod":
            for name in ("moderation_post_policy", "moderation_comment_policy"):
                if name not in self.model_fields_set:
                    object.__setattr__(self, name, "closed")
        return self
