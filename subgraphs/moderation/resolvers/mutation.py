"""Mutation root of the moderation subgraph: reporting content and deciding cases."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import BadUserInputError
from shared.references import MAX_ID, MEDIA, POST, USER, EntityKind
from subgraphs.moderation import _context as ctx
from subgraphs.moderation.services import reports
from subgraphs.moderation.types.report import ModerationAction, Report, ReportReason, SubjectType

__all__ = ["Mutation"]

# Subjects users may report: those whose owner can confirm the id exists.
REPORTABLE: dict[SubjectType, EntityKind] = {
    SubjectType.POST: POST, SubjectType.USER: USER, SubjectType.MEDIA: MEDIA}
MAX_NOTE = 500


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Report a post, user or media item; reports of the same "
                                      "subject merge into one case, and reporting twice counts once.")
    async def report_content(self, info: Info[Any, Any], subject_type: SubjectType,
                             subject_id: strawberry.ID, reason: ReportReason) -> Report:
        reporter = ctx.require_user(info)
        kind = REPORTABLE.get(subject_type)
        if kind is None:
            raise BadUserInputError(f"{subject_type.value} subjects cannot be reported yet",
                                    extensions={"argument": "subjectType",
                                                "reason": "UNSUPPORTED_SUBJECT"})
        if subject_type is SubjectType.USER and str(subject_id) == reporter:
            raise BadUserInputError("You cannot report yourself",
                                    extensions={"argument": "subjectId", "reason": "SELF_REPORT"})
        await ctx.references(info).require(kind, [str(subject_id)], field_name="subjectId")
        async with ctx.session(info) as session:
            row = await reports.report_content(
                session=session, reporter_id=reporter, subject_type=subject_type.value,
                subject_id=str(subject_id), reason=reason.value)
        return Report.from_row(row)

    @strawberry.mutation(description="Decide an open case (role MODERATOR or ADMIN); the "
                                      "decision is written to the audit log.")
    async def decide(self, info: Info[Any, Any], report_id: strawberry.ID,
                     action: ModerationAction, note: str | None = None) -> Report:
        moderator = ctx.require_moderator(info)
        if len(str(report_id)) > MAX_ID:
            raise BadUserInputError("reportId is too long", extensions={"argument": "reportId"})
        if note is not None and len(note) > MAX_NOTE:
            raise BadUserInputError(f"note must be at most {MAX_NOTE} characters",
                                    extensions={"argument": "note"})
        async with ctx.session(info) as session:
            row = await reports.decide(session=session, moderator_id=moderator,
                                       report_id=str(report_id), action=action.value, note=note)
        return Report.from_row(row)
