"""Moderation settings (environment prefix `MODERATION_`)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings

__all__ = ["SURFACES", "ModerationSettings"]

# Where text reaches moderation from; each has its own thresholds.
SURFACES = ("post", "comment", "message", "tip_message", "profile")

_HOLD = {"post": 0.75, "comment": 0.75, "message": 0.85, "tip_message": 0.75, "profile": 0.6}
_BLOCK = {"post": 0.98, "comment": 0.98, "message": 0.995, "tip_message": 0.98, "profile": 0.9}


class ModerationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MODERATION_", extra="ignore")

    service_name: str = "moderation"
    port: int = 4106
    kv_prefix: str = Field("tributary:moderation:", description="Prefix of every KV key and channel.")
    migrate_on_startup: bool = Field(True, description="Run alembic upgrade head at startup.")
    hold_thresholds: dict[str, float] = Field(
        default_factory=lambda: dict(_HOLD),
        description="JSON object: surface -> score from which text is HOLD (visible only to its "
        "author until reviewed); surfaces: post, comment, message, tip_message, profile.",
    )
    block_thresholds: dict[str, float] = Field(
        default_factory=lambda: dict(_BLOCK),
        description="JSON object: surface -> score from which text is BLOCK (refused).",
    )
    max_text_length: int = Field(10_000, ge=1, description="Longest text a check accepts.")
    link_limit: int = Field(3, ge=0, description="Links one text may carry before it is link spam.")
    mention_limit: int = Field(8, ge=0, description="@mentions one text may carry before it floods.")
    duplicate_limit: int = Field(
        3, ge=1, description="Times one author may send the same text per surface within "
        "`duplicate_window_seconds` before the next is repeated-text spam.",
    )
    duplicate_window_seconds: int = Field(600, ge=1, description="Window of `duplicate_limit`.")
    queue_page_size: int = Field(100, ge=1, le=1000, description="Largest `first` of the queue.")

    @model_validator(mode="after")
    def _check_thresholds(self) -> ModerationSettings:
        for name, values in (("hold_thresholds", self.hold_thresholds),
                             ("block_thresholds", self.block_thresholds)):
            missing = [s for s in SURFACES if s not in values]
            unknown = [s for s in values if s not in SURFACES]
            if missing or unknown:
                raise ValueError(f"{name} must name exactly the surfaces {', '.join(SURFACES)} "
                                 f"(missing {missing}, unknown {unknown})")
            if any(not 0.0 < v <= 1.0 for v in values.values()):
                raise ValueError(f"{name} must lie in (0, 1]")
        for surface in SURFACES:
            if self.hold_thresholds[surface] > self.block_thresholds[surface]:
                raise ValueError(f"the hold threshold of {surface} is above its block threshold")
        return self

    def thresholds(self, surface: str) -> tuple[float, float]:
        """(hold, block) of `surface`."""
        return self.hold_thresholds[surface], self.block_thresholds[surface]
