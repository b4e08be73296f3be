"""outbox and processed-event tables (shared.events) in the social database

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from shared.events import create_event_tables, drop_event_tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_event_tables(op, version=1)  # what the kit had then; 0004 adds the rest


def downgrade() -> None:
    drop_event_tables(op, version=1)
