"""creator subscriptions: plans and subscriptions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_plans",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("creator_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_wallet_plans_creator_id", "wallet_plans", ["creator_id"])
    op.create_table(
        "wallet_subscriptions",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("plan_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subscriber_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("creator_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("grace_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["wallet_plans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "subscriber_id", name="uq_wallet_subscriptions_plan_subscriber"),
    )
    op.create_index("ix_wallet_subscriptions_subscriber_id", "wallet_subscriptions", ["subscriber_id"])
    op.create_index("ix_wallet_subscriptions_due", "wallet_subscriptions", ["status", "current_period_end"])


def downgrade() -> None:
    op.drop_table("wallet_subscriptions")
    op.drop_table("wallet_plans")
