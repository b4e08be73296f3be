"""SQLModel tables of the moderation subgraph (own MetaData, every table prefixed `moderation_`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "AuditEntry",
    "ModerationBase",
    "Report",
    "ReportFiling",
    "Verdict",
    "metadata",
    "new_id",
    "utcnow",
]


class ModerationBase(SQLModel, registry=registry()):
    """Base of the moderation tables; its MetaData is separate from every other subgraph's."""


metadata = ModerationBase.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Verdict(ModerationBase, table=True):
    """One synchronous check of a text: what the classifier saw and what it answered."""

    __tablename__ = "moderation_verdicts"
    __table_args__ = (
        sa.Index("ix_moderation_verdicts_author", "author_id", "surface", "text_sha256",
                 "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    surface: str = Field(max_length=16)
    caller: str = Field(max_length=32)  # the service that asked
    author_id: str = Field(max_length=64)
    subject_id: str | None = Field(default=None, max_length=64)
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    text_sha256: str = Field(max_length=64)
    action: str = Field(max_length=8)  # ALLOW | HOLD | BLOCK
    reason: str | None = Field(default=None, max_length=64)
    scores: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    rules: list[str] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=32)
    latency_ms: float
    created_at: datetime = Field(default_factory=utcnow)


class Report(ModerationBase, table=True):
    """One case about one subject: every open report of the same subject merges into it."""

    __tablename__ = "moderation_reports"
    __table_args__ = (
        # At most one open case per subject (SQLite and PostgreSQL both know partial indexes).
        sa.Index("ux_moderation_reports_open_subject", "subject_type", "subject_id", unique=True,
                 sqlite_where=sa.text("status = 'OPEN'"),
                 postgresql_where=sa.text("status = 'OPEN'")),
        sa.Index("ix_moderation_reports_queue", "status", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    status: str = Field(default="OPEN", max_length=16)  # OPEN | DECIDED
    reports_count: int = 0
    # The verdict that held the subject, when the classifier opened the case.
    verdict_id: str | None = Field(default=None, max_length=32)
    action: str | None = Field(default=None, max_length=16)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ReportFiling(ModerationBase, table=True):
    """One user's report of a case's subject (one per reporter and case)."""

    __tablename__ = "moderation_report_filings"

    report_id: str = Field(foreign_key="moderation_reports.id", primary_key=True, max_length=32,
                           ondelete="CASCADE")
    reporter_id: str = Field(primary_key=True, max_length=64)
    reason: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(ModerationBase, table=True):
    """Who did what to which case, and why; never updated or deleted."""

    __tablename__ = "moderation_audit_log"
    __table_args__ = (sa.Index("ix_moderation_audit_created", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=16)
    report_id: str = Field(max_length=32)
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
