"""privacy and consent: private accounts, follow requests, blocks, message requests, invitations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "social_privacy_settings",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), primary_key=True),
        sa.Column("is_private", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("allow_group_adds_from_following", sa.Boolean(), nullable=False,
                  server_default=sa.true()),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "social_follow_requests",
        sa.Column("requester_id", sqlmodel.sql.sqltypes.AutoString(length=64), primary_key=True),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=64), primary_key=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_social_follow_requests_target", "social_follow_requests",
                    ["target_id", "created_at", "requester_id"])
    op.create_table(
        "social_blocks",
        sa.Column("blocker_id", sqlmodel.sql.sqltypes.AutoString(length=64), primary_key=True),
        sa.Column("blocked_id", sqlmodel.sql.sqltypes.AutoString(length=64), primary_key=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_social_blocks_blocker", "social_blocks", ["blocker_id", "created_at", "blocked_id"])
    op.create_index("ix_social_blocks_blocked", "social_blocks", ["blocked_id", "blocker_id"])
    # Plain ADD COLUMNs: a batch rebuild of social_conversations on SQLite would drop the old
    # table, and its ON DELETE CASCADE foreign keys would take every member and message along.
    op.add_column("social_conversations",
                  sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column("social_conversations",
                  sa.Column("share_history", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Existing groups keep the behaviour they had: every member saw the whole history.
    op.execute(sa.text("UPDATE social_conversations SET share_history = :shared").bindparams(shared=True))
    op.add_column("social_conversation_members",
                  sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                            server_default="active"))
    op.add_column("social_conversation_members",
                  sa.Column("invited_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35+), not batch rebuilds: see upgrade() on the cascades.
    for table, column in [("social_conversation_members", "invited_by"),
                          ("social_conversation_members", "status"),
                          ("social_conversations", "share_history"),
                          ("social_conversations", "created_by")]:
        op.drop_column(table, column)
    op.drop_index("ix_social_blocks_blocked", table_name="social_blocks")
    op.drop_index("ix_social_blocks_blocker", table_name="social_blocks")
    op.drop_table("social_blocks")
    op.drop_index("ix_social_follow_requests_target", table_name="social_follow_requests")
    op.drop_table("social_follow_requests")
    op.drop_table("social_privacy_settings")
