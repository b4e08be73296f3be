"""One line of the moderation audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.moderation.models import AuditEntry as AuditRow
from subgraphs.moderation.types.report import ModerationAction, SubjectType

__all__ = ["AuditEntry"]


@strawberry.type(description="Who decided what about which case, when and why.")
class AuditEntry:
    id: strawberry.ID
    actor_id: strawberry.ID
    action: ModerationAction
    report_id: strawberry.ID
    subject_type: SubjectType
    subject_id: strawberry.ID
    note: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(id=strawberry.ID(row.id), actor_id=strawberry.ID(row.actor_id),
                   action=ModerationAction(row.action), report_id=strawberry.ID(row.report_id),
                   subject_type=SubjectType(row.subject_type),
                   subject_id=strawberry.ID(row.subject_id), note=row.note,
                   created_at=row.created_at)
