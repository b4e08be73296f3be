"""A classifier verdict as moderators see it beside a case."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from subgraphs.moderation.models import Verdict as VerdictRow

__all__ = ["LabelScore", "Verdict", "VerdictAction"]


@strawberry.enum
class VerdictAction(Enum):
    ALLOW = "ALLOW"
    HOLD = "HOLD"
    BLOCK = "BLOCK"


@strawberry.type
class LabelScore:
    label: str
    score: float


@strawberry.type(description="What the text classifier saw in one checked text (moderators only).")
class Verdict:
    id: strawberry.ID
    surface: str
    action: VerdictAction
    reason: str | None
    text: str
    scores: list[LabelScore]
    rules: list[str]
    model_name: str
    model_version: str
    latency_ms: float
    created_at: datetime

    @classmethod
    def from_row(cls, row: VerdictRow) -> Verdict:
        return cls(id=strawberry.ID(row.id), surface=row.surface, action=VerdictAction(row.action),
                   reason=row.reason, text=row.text,
                   scores=[LabelScore(label=k, score=float(v)) for k, v in sorted(row.scores.items())],
                   rules=list(row.rules), model_name=row.model_name,
                   model_version=row.model_version, latency_ms=row.latency_ms,
                   created_at=row.created_at)
