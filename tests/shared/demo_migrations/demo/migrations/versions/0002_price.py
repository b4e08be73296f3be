"""items get a price

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shared_demo_items") as batch:
        batch.add_column(sa.Column("price_cents", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_shared_demo_items_name", "shared_demo_items", ["name"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_shared_demo_items_name", "shared_demo_items")
    with op.batch_alter_table("shared_demo_items") as batch:
        batch.drop_column("price_cents")
