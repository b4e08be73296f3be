"""API keys may expire; refresh tokens remember the client (user agent, address) for the
device list.

Revision ID: 0003_identity_devices
Revises: 0002_identity_codes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_identity_devices"
down_revision = "0002_identity_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("identity_api_keys",
                  sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("identity_refresh_tokens",
                  sa.Column("user_agent", sa.String(300), nullable=True))
    op.add_column("identity_refresh_tokens", sa.Column("ip", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_refresh_tokens") as batch:
        batch.drop_column("ip")
        batch.drop_column("user_agent")
    with op.batch_alter_table("identity_api_keys") as batch:
        batch.drop_column("expires_at")
