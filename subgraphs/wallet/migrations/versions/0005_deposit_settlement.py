"""deposits: recorded before the provider call, settlement hold, refunds, disputes, freezes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00

`wallet_payment_intents` gains the columns of the settlement hold (`held`, `settles_at`,
`settled_at`), refunds and disputes, and the provider idempotency key; `provider_ref` becomes
nullable because the intent is committed before the provider is asked for one.

On PostgreSQL `wallet_send_tip` refuses a sender who owes the platform (a `user_receivable`
account below zero after a refund or dispute of money already spent), as `post_entry` does on
the portable path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FROZEN_CHECK = """
    -- A sender who owes the platform (refund or dispute of spent money) cannot send.
    IF EXISTS (SELECT 1 FROM wallet_accounts r
               WHERE r.owner_kind = 'user_receivable' AND r.owner_id = p_sender AND r.balance < 0) THEN
        RAISE EXCEPTION 'wallet: account frozen'
            USING DETAIL = (SELECT (-min(r.balance))::text FROM wallet_accounts r
                            WHERE r.owner_kind = 'user_receivable' AND r.owner_id = p_sender);
    END IF;

    -- Ascending id, as the portable path locks"""


def _previous_function() -> str:
    spec = importlib.util.spec_from_file_location(
        "wallet_0003", Path(__file__).with_name("0003_send_tip_function.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.SEND_TIP)


def _frozen_function() -> str:
    previous = _previous_function()
    marker = "\n    -- Ascending id, as the portable path locks"
    assert marker in previous, "0003's function changed shape"
    return previous.replace(marker, _FROZEN_CHECK, 1)


def upgrade() -> None:
    with op.batch_alter_table("wallet_payment_intents", schema=None) as batch_op:
        batch_op.alter_column("provider_ref", existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
                              nullable=True)
        batch_op.add_column(sa.Column("provider_key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True))
        batch_op.add_column(sa.Column("held", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("settles_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("dispute_ref", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column("dispute_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column("disputed", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("dispute_shortfall", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("failure_reason", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True))
        batch_op.create_index("ix_wallet_payment_intents_status_settles", ["status", "settles_at"], unique=False)
    # Deposits credited before the hold existed were available at once: they count as settled.
    op.execute("UPDATE wallet_payment_intents SET settled_at = updated_at WHERE status = 'succeeded'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_frozen_function())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_previous_function())
    with op.batch_alter_table("wallet_payment_intents", schema=None) as batch_op:
        batch_op.drop_index("ix_wallet_payment_intents_status_settles")
        for column in ("failure_reason", "dispute_shortfall", "disputed", "dispute_status", "dispute_ref",
                       "refunded", "settled_at", "settles_at", "held", "provider_key"):
            batch_op.drop_column(column)
        batch_op.alter_column("provider_ref", existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
                              nullable=False)
