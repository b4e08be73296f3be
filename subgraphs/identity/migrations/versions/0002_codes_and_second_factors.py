"""One-time codes, phone numbers and verification times, TOTP factors and recovery codes.

Revision ID: 0002_identity_codes
Revises: 0001_identity_initial
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_identity_codes"
down_revision = "0001_identity_initial"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("identity_users", sa.Column("phone", sa.String(16), nullable=True))
    op.add_column("identity_users", sa.Column("email_verified_at", _TS, nullable=True))
    op.add_column("identity_users", sa.Column("phone_verified_at", _TS, nullable=True))
    op.create_index("ix_identity_users_phone", "identity_users", ["phone"], unique=True)
    op.create_table(
        "identity_one_time_codes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(24), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(254), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("provider", sa.String(16), nullable=True),
        sa.Column("provider_message_id", sa.String(100), nullable=True),
        sa.Column("delivery_status", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_one_time_codes"),
    )
    op.create_index("ix_identity_one_time_codes_lookup", "identity_one_time_codes",
                    ["purpose", "destination"])
    op.create_index("ix_identity_one_time_codes_user_id", "identity_one_time_codes", ["user_id"])
    op.create_index("ix_identity_one_time_codes_provider_message_id", "identity_one_time_codes",
                    ["provider_message_id"])
    op.create_table(
        "identity_totp_factors",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("confirmed_at", _TS, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_identity_totp_factors"),
        sa.ForeignKeyConstraint(["user_id"], ["identity_users.id"],
                                name="fk_identity_totp_factors_user_id_identity_users"),
    )
    op.create_table(
        "identity_recovery_codes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_recovery_codes"),
        sa.ForeignKeyConstraint(["user_id"], ["identity_users.id"],
                                name="fk_identity_recovery_codes_user_id_identity_users"),
    )
    op.create_index("ix_identity_recovery_codes_user_id", "identity_recovery_codes", ["user_id"])


def downgrade() -> None:
    op.drop_table("identity_recovery_codes")
    op.drop_table("identity_totp_factors")
    op.drop_table("identity_one_time_codes")
    with op.batch_alter_table("identity_users") as batch:
        batch.drop_index("ix_identity_users_phone")
        batch.drop_column("phone_verified_at")
        batch.drop_column("email_verified_at")
        batch.drop_column("phone")
