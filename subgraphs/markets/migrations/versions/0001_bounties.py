"""bounties and their applications

Revision ID: 0001
Revises:
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "markets_bounties",
        sa.Column("id", _STR(length=32), nullable=False),
        sa.Column("poster_id", _STR(length=64), nullable=False),
        sa.Column("title", _STR(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reward_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", _STR(length=3), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("visibility", _STR(length=16), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.Column("status", _STR(length=16), nullable=False),
        sa.Column("hold_id", _STR(length=64), nullable=True),
        sa.Column("escrow_status", _STR(length=16), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("dispute_reason", _STR(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("reward_minor > 0", name="ck_markets_bounties_reward_positive"),
        sa.CheckConstraint("winners >= 1", name="ck_markets_bounties_winners"),
    )
    op.create_index("ix_markets_bounties_poster_id", "markets_bounties", ["poster_id"])
    op.create_index("ix_markets_bounties_status_deadline", "markets_bounties",
                    ["status", "deadline"])
    op.create_table(
        "markets_bounty_applications",
        sa.Column("id", _STR(length=32), nullable=False),
        sa.Column("bounty_id", _STR(length=32), nullable=False),
        sa.Column("hunter_id", _STR(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("quote_minor", sa.BigInteger(), nullable=True),
        sa.Column("status", _STR(length=16), nullable=False),
        sa.Column("submission_text", sa.Text(), nullable=True),
        sa.Column("submission_attachment_ids", sa.JSON(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bounty_id"], ["markets_bounties.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bounty_id", "hunter_id", name="uq_markets_applications_hunter"),
    )
    op.create_index("ix_markets_bounty_applications_bounty_id", "markets_bounty_applications",
                    ["bounty_id"])
    op.create_index("ix_markets_bounty_applications_hunter_id", "markets_bounty_applications",
                    ["hunter_id"])


def downgrade() -> None:
    op.drop_table("markets_bounty_applications")
    op.drop_table("markets_bounties")
