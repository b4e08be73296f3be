"""A report case: what reporters see of it, and what moderators see in the queue."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.moderation import _context as ctx
from subgraphs.moderation.models import Report as ReportRow
from subgraphs.moderation.services import reports, verdicts
from subgraphs.moderation.types.verdict import Verdict

__all__ = ["ModerationAction", "Report", "ReportFiling", "ReportReason", "ReportStatus",
           "SubjectType"]


@strawberry.enum
class SubjectType(Enum):
    POST = "POST"
    COMMENT = "COMMENT"
    MESSAGE = "MESSAGE"
    TIP = "TIP"
    MEDIA = "MEDIA"
    USER = "USER"


@strawberry.enum
class ReportReason(Enum):
    SPAM = "SPAM"
    HARASSMENT = "HARASSMENT"
    HATE = "HATE"
    SEXUAL = "SEXUAL"
    VIOLENCE = "VIOLENCE"
    SELF_HARM = "SELF_HARM"
    SCAM = "SCAM"
    OTHER = "OTHER"


@strawberry.enum(description="A moderator's decision; recorded in the audit log (the owning "
                             "subgraphs do not apply it yet).")
class ModerationAction(Enum):
    DISMISS = "DISMISS"
    HIDE = "HIDE"
    REMOVE = "REMOVE"
    WARN = "WARN"
    SUSPEND = "SUSPEND"
    BAN = "BAN"


@strawberry.enum
class ReportStatus(Enum):
    OPEN = "OPEN"
    DECIDED = "DECIDED"


@strawberry.type
class ReportFiling:
    reporter_id: strawberry.ID
    reason: ReportReason
    created_at: datetime


@strawberry.type(description="One case about one subject: reports of the same subject merge.")
class Report:
    id: strawberry.ID
    subject_type: SubjectType
    subject_id: strawberry.ID
    status: ReportStatus
    action: ModerationAction | None
    created_at: datetime
    decided_at: datetime | None
    _row: strawberry.Private[ReportRow]

    @classmethod
    def from_row(cls, row: ReportRow) -> Report:
        return cls(id=strawberry.ID(row.id), subject_type=SubjectType(row.subject_type),
                   subject_id=strawberry.ID(row.subject_id), status=ReportStatus(row.status),
                   action=ModerationAction(row.action) if row.action else None,
                   created_at=row.created_at, decided_at=row.decided_at, _row=row)

    @strawberry.field(description="How many users reported the subject (moderators only).")
    def reports_count(self, info: Info[Any, Any]) -> int:
        ctx.require_moderator(info)
        return self._row.reports_count

    @strawberry.field(description="Who decided the case (moderators only).")
    def decided_by(self, info: Info[Any, Any]) -> strawberry.ID | None:
        ctx.require_moderator(info)
        return strawberry.ID(self._row.decided_by) if self._row.decided_by else None

    @strawberry.field(description="Each user's report of the subject, oldest first (moderators only).")
    async def filings(self, info: Info[Any, Any]) -> list[ReportFiling]:
        ctx.require_moderator(info)
        async with ctx.session(info) as session:
            rows = (await reports.filings(session=session, report_ids=[self._row.id]))[self._row.id]
        return [ReportFiling(reporter_id=strawberry.ID(r.reporter_id),
                             reason=ReportReason(r.reason), created_at=r.created_at) for r in rows]

    @strawberry.field(description="The classifier verdict that held the subject, if one did "
                                  "(moderators only).")
    async def verdict(self, info: Info[Any, Any]) -> Verdict | None:
        ctx.require_moderator(info)
        if self._row.verdict_id is None:
            return None
        async with ctx.session(info) as session:
            row = await verdicts.get_verdict(session=session, verdict_id=self._row.verdict_id)
        return Verdict.from_row(row) if row is not None else None
