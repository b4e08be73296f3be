"""outbox: wait for a consumer (next_attempt_at), then dead letters (shared.events v2)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from shared.events import downgrade_event_tables, upgrade_event_tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 0001 created the kit's first outbox tables; the kit has since learnt to wait for a
    # consumer and to keep dead letters.
    upgrade_event_tables(op, since=1, to=2)


def downgrade() -> None:
    downgrade_event_tables(op, to=1)
