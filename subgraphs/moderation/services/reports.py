"""Reports and the review queue: one open case per subject, decisions written to the audit log."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import ConflictError, NotFoundError
from subgraphs.moderation.models import AuditEntry, Report, ReportFiling, utcnow

__all__ = ["DECISIONS", "REASONS", "audit_log", "decide", "filings", "open_case", "queue",
           "report_content"]

REASONS = ("SPAM", "HARASSMENT", "HATE", "SEXUAL", "VIOLENCE", "SELF_HARM", "SCAM", "OTHER")
DECISIONS = ("DISMISS", "HIDE", "REMOVE", "WARN", "SUSPEND", "BAN")


async def _open_report(session: AsyncSession, subject_type: str, subject_id: str) -> Report | None:
    query = select(Report).where(Report.subject_type == subject_type,
                                 Report.subject_id == subject_id, Report.status == "OPEN")
    return (await session.execute(query)).scalar_one_or_none()


async def open_case(session: AsyncSession, *, subject_type: str, subject_id: str,
                    verdict_id: str | None = None) -> Report:
    """The subject's open case, created if there is none (inside the caller's transaction)."""
    found = await _open_report(session, subject_type, subject_id)
    if found is not None:
        if verdict_id is not None and found.verdict_id is None:
            found.verdict_id = verdict_id
        return found
    case = Report(subject_type=subject_type, subject_id=subject_id, verdict_id=verdict_id)
    try:
        async with session.begin_nested():
            session.add(case)
    except IntegrityError:
        # Another request opened it a moment ago: the unique open-subject index said so.
        found = await _open_report(session, subject_type, subject_id)
        assert found is not None, "the open case that refused ours is gone"
        return found
    return case


async def report_content(*, session: AsyncSession, reporter_id: str, subject_type: str,
                         subject_id: str, reason: str) -> Report:
    """File a report; reports of the same open subject merge, a repeated one counts once."""
    case = await open_case(session, subject_type=subject_type, subject_id=subject_id)
    try:
        async with session.begin_nested():
            session.add(ReportFiling(report_id=case.id, reporter_id=reporter_id, reason=reason))
    except IntegrityError:
        await session.commit()  # this reporter already filed it: nothing more to count
        return case
    await session.execute(update(Report).where(Report.id == case.id)
                          .values(reports_count=Report.reports_count + 1))
    await session.commit()
    await session.refresh(case)
    return case


async def queue(*, session: AsyncSession, first: int) -> list[Report]:
    """Open cases, the most reported first, then the oldest."""
    query = (select(Report).where(Report.status == "OPEN")
             .order_by(Report.reports_count.desc(), Report.created_at, Report.id)  # type: ignore[attr-defined]
             .limit(first))
    return list((await session.execute(query)).scalars())


async def filings(*, session: AsyncSession, report_ids: list[str]) -> dict[str, list[ReportFiling]]:
    query = (select(ReportFiling).where(ReportFiling.report_id.in_(report_ids))  # type: ignore[attr-defined]
             .order_by(ReportFiling.created_at, ReportFiling.reporter_id))
    found: dict[str, list[ReportFiling]] = {i: [] for i in report_ids}
    for row in (await session.execute(query)).scalars():
        found[row.report_id].append(row)
    return found


async def decide(*, session: AsyncSession, moderator_id: str, report_id: str, action: str,
                 note: str | None) -> Report:
    """Close an open case with `action`; the decision is written to the audit log with it."""
    # The status guard makes two moderators deciding at once end with one decision.
    now = utcnow()
    result = await session.execute(
        update(Report).where(Report.id == report_id, Report.status == "OPEN")
        .values(status="DECIDED", action=action, decided_by=moderator_id, decided_at=now))
    case = await session.get(Report, report_id, populate_existing=True)
    if case is None:
        raise NotFoundError("No report with this id", extensions={"reportId": report_id})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError("This report was already decided",
                            extensions={"reportId": report_id, "reason": "ALREADY_DECIDED"})
    session.add(AuditEntry(actor_id=moderator_id, action=action, report_id=report_id,
                           subject_type=case.subject_type, subject_id=case.subject_id,
                           note=note, created_at=now))
    await session.commit()
    return case


async def audit_log(*, session: AsyncSession, first: int) -> list[AuditEntry]:
    query = (select(AuditEntry)
             .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())  # type: ignore[attr-defined]
             .limit(first))
    return list((await session.execute(query)).scalars())
