"""moderation tables: verdicts, reports merged per subject, report filings, audit log

Revision ID: 0001
Revises:
Create Date: 2026-12-04 19:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "moderation_verdicts",
        sa.Column("id", _S(length=32), primary_key=True),
        sa.Column("surface", _S(length=16), nullable=False),
        sa.Column("caller", _S(length=32), nullable=False),
        sa.Column("author_id", _S(length=64), nullable=False),
        sa.Column("subject_id", _S(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", _S(length=64), nullable=False),
        sa.Column("action", _S(length=8), nullable=False),
        sa.Column("reason", _S(length=64), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("model_name", _S(length=64), nullable=False),
        sa.Column("model_version", _S(length=32), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
    )
    op.create_index("ix_moderation_verdicts_author", "moderation_verdicts",
                    ["author_id", "surface", "text_sha256", "created_at"])
    op.create_table(
        "moderation_reports",
        sa.Column("id", _S(length=32), primary_key=True),
        sa.Column("subject_type", _S(length=16), nullable=False),
        sa.Column("subject_id", _S(length=64), nullable=False),
        sa.Column("status", _S(length=16), nullable=False),
        sa.Column("reports_count", sa.Integer(), nullable=False),
        sa.Column("verdict_id", _S(length=32), nullable=True),
        sa.Column("action", _S(length=16), nullable=True),
        sa.Column("decided_by", _S(length=64), nullable=True),
        sa.Column("decided_at", _T(), nullable=True),
        sa.Column("created_at", _T(), nullable=False),
    )
    op.create_index("ux_moderation_reports_open_subject", "moderation_reports",
                    ["subject_type", "subject_id"], unique=True,
                    sqlite_where=sa.text("status = 'OPEN'"),
                    postgresql_where=sa.text("status = 'OPEN'"))
    op.create_index("ix_moderation_reports_queue", "moderation_reports",
                    ["status", "created_at", "id"])
    op.create_table(
        "moderation_report_filings",
        sa.Column("report_id", _S(length=32),
                  sa.ForeignKey("moderation_reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("reporter_id", _S(length=64), primary_key=True),
        sa.Column("reason", _S(length=32), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
    )
    op.create_table(
        "moderation_audit_log",
        sa.Column("id", _S(length=32), primary_key=True),
        sa.Column("actor_id", _S(length=64), nullable=False),
        sa.Column("action", _S(length=16), nullable=False),
        sa.Column("report_id", _S(length=32), nullable=False),
        sa.Column("subject_type", _S(length=16), nullable=False),
        sa.Column("subject_id", _S(length=64), nullable=False),
        sa.Column("note", _S(length=500), nullable=True),
        sa.Column("created_at", _T(), nullable=False),
    )
    op.create_index("ix_moderation_audit_created", "moderation_audit_log", ["created_at", "id"])


def downgrade() -> None:
    op.drop_table("moderation_audit_log")
    op.drop_table("moderation_report_filings")
    op.drop_table("moderation_reports")
    op.drop_table("moderation_verdicts")
