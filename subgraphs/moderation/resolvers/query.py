"""Query root of the moderation subgraph: the review queue and the audit log."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.moderation import _context as ctx
from subgraphs.moderation.services import reports
from subgraphs.moderation.types.audit import AuditEntry
from subgraphs.moderation.types.report import Report

__all__ = ["Query"]


@strawberry.type
class Query:
    @strawberry.field(description="Open cases, the most reported first, then the oldest "
                                  "(role MODERATOR or ADMIN).")
    async def review_queue(self, info: Info[Any, Any], first: int = 50) -> list[Report]:
        ctx.require_moderator(info)
        async with ctx.session(info) as session:
            rows = await reports.queue(session=session, first=ctx.page_size(info, first))
        return [Report.from_row(r) for r in rows]

    @strawberry.field(description="Moderation decisions, newest first (role ADMIN).")
    async def moderation_audit_log(self, info: Info[Any, Any], first: int = 50) -> list[AuditEntry]:
        ctx.require_moderator(info, "ADMIN")
        async with ctx.session(info) as session:
            rows = await reports.audit_log(session=session, first=ctx.page_size(info, first))
        return [AuditEntry.from_row(r) for r in rows]
