"""moderation state of posts and comments: held ones are visible only to their authors

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("social_posts", "social_comments")


def upgrade() -> None:
    for table in _TABLES:
        # Every existing row was published before moderation existed: it stays visible.
        op.add_column(table, sa.Column("moderation_state", sqlmodel.sql.sqltypes.AutoString(length=16),
                                       nullable=False, server_default="visible"))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("moderation_state")
