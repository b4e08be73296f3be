"""Identity tables: users, refresh tokens, API keys, wallets, wallet challenges, audit events.

Revision ID: 0001_identity_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_identity_initial"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "identity_users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("handle", sa.String(30), nullable=False),
        sa.Column("handle_key", sa.String(30), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=True),
        sa.Column("avatar_url", sa.String(2048), nullable=True),
        sa.Column("bio", sa.String(500), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_users"),
        sa.UniqueConstraint("handle_key", name="uq_identity_users_handle_key"),
        sa.UniqueConstraint("email", name="uq_identity_users_email"),
    )
    op.create_table(
        "identity_refresh_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_users.id"],
            name="fk_identity_refresh_tokens_user_id_identity_users",
        ),
        sa.UniqueConstraint("token_hash", name="uq_identity_refresh_tokens_token_hash"),
    )
    op.create_index("ix_identity_refresh_tokens_family_id", "identity_refresh_tokens", ["family_id"])
    op.create_index("ix_identity_refresh_tokens_user_id", "identity_refresh_tokens", ["user_id"])
    op.create_table(
        "identity_api_keys",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(1000), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_used_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_api_keys"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["identity_users.id"], name="fk_identity_api_keys_user_id_identity_users"
        ),
        sa.UniqueConstraint("prefix", name="uq_identity_api_keys_prefix"),
    )
    op.create_index("ix_identity_api_keys_user_id", "identity_api_keys", ["user_id"])
    op.create_table(
        "identity_wallets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("chain", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_wallets"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["identity_users.id"], name="fk_identity_wallets_user_id_identity_users"
        ),
        sa.UniqueConstraint("chain", "address", name="uq_identity_wallets_chain"),
    )
    op.create_index("ix_identity_wallets_user_id", "identity_wallets", ["user_id"])
    op.create_table(
        "identity_wallet_challenges",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("chain", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("nonce", name="pk_identity_wallet_challenges"),
    )
    op.create_table(
        "identity_audit_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_audit_events"),
    )
    op.create_index("ix_identity_audit_events_event_type", "identity_audit_events", ["event_type"])
    op.create_index("ix_identity_audit_events_user_id", "identity_audit_events", ["user_id"])
    op.create_index("ix_identity_audit_events_created_at", "identity_audit_events", ["created_at"])


def downgrade() -> None:
    op.drop_table("identity_audit_events")
    op.drop_table("identity_wallet_challenges")
    op.drop_table("identity_wallets")
    op.drop_table("identity_api_keys")
    op.drop_table("identity_refresh_tokens")
    op.drop_table("identity_users")
