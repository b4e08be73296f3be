"""journal entries: drop the kind and created_at indexes nothing reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wallet_journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_wallet_journal_entries_kind")
        batch_op.drop_index("ix_wallet_journal_entries_created_at")


def downgrade() -> None:
    with op.batch_alter_table("wallet_journal_entries", schema=None) as batch_op:
        batch_op.create_index("ix_wallet_journal_entries_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_wallet_journal_entries_kind", ["kind"], unique=False)
