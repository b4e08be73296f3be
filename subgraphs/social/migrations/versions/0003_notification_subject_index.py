"""index notifications by subject (coalesced message notifications)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_social_notifications_subject", "social_notifications", ["subject_id", "kind", "user_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_social_notifications_subject", table_name="social_notifications")
