"""SQLModel tables of the wallet subgraph (own MetaData, every table prefixed `wallet_`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events import include_event_tables

__all__ = [
    "Account",
    "Cashout",
    "EscrowHold",
    "IdempotencyRecord",
    "JournalEntry",
    "JournalLine",
    "PaymentIntent",
    "Plan",
    "Subscription",
    "Tip",
    "WalletBase",
    "WebhookEvent",
    "metadata",
]


class WalletBase(SQLModel, registry=registry()):
    """Base of the wallet tables; its MetaData is separate from every other subgraph's."""


metadata = WalletBase.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, index: bool = False) -> Any:
    return Field(
        default_factory=utcnow, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=index)
    )


class Account(WalletBase, table=True):
    """One balance: a user's per currency, or a system account (clearing, escrow, fees)."""

    __tablename__ = "wallet_accounts"
    __table_args__ = (
        sa.UniqueConstraint("owner_kind", "owner_id", "currency", name="uq_wallet_accounts_owner"),
        # Defence in depth: the services refuse overdrafts; the database refuses them too.
        sa.CheckConstraint("allow_negative OR balance >= 0", name="ck_wallet_accounts_no_overdraft"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_kind: str = Field(max_length=16)  # "user" | "system"
    owner_id: str = Field(max_length=128)
    currency: str = Field(max_length=3)
    # Cached sum of this account's journal lines, updated in the same transaction as the lines.
    balance: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))
    allow_negative: bool = Field(default=False)
    created_at: datetime = _ts()


class JournalEntry(WalletBase, table=True):
    """One movement of value; its lines sum to zero."""

    __tablename__ = "wallet_journal_entries"

    id: str = Field(primary_key=True, max_length=32)
    # No index on kind or created_at: nothing looks entries up by them, and each index is
    # written on every entry (together ~13% of a tip's database CPU).
    kind: str = Field(max_length=32)
    currency: str = Field(max_length=3)
    reference: str | None = Field(default=None, max_length=128, index=True)
    created_at: datetime = _ts()


class JournalLine(WalletBase, table=True):
    __tablename__ = "wallet_journal_lines"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(foreign_key="wallet_journal_entries.id", index=True, max_length=32)
    account_id: int = Field(foreign_key="wallet_accounts.id", index=True)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


class IdempotencyRecord(WalletBase, table=True):
    """The first result of a money-moving request, keyed by (principal, key).

    The primary key is what stops two concurrent duplicates from both writing.
    """

    __tablename__ = "wallet_idempotency_keys"

    principal: str = Field(primary_key=True, max_length=160)
    key: str = Field(primary_key=True, max_length=200)
    operation: str = Field(max_length=64)
    request_hash: str = Field(max_length=64)
    result: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = _ts()


class Tip(WalletBase, table=True):
    __tablename__ = "wallet_tips"
    __table_args__ = (
        sa.Index("ix_wallet_tips_recipient_created", "recipient_id", "created_at"),
        sa.Index("ix_wallet_tips_sender_created", "sender_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=32)
    sender_id: str = Field(max_length=128)
    recipient_id: str = Field(max_length=128)
    post_id: str | None = Field(default=None, max_length=128, index=True)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    # AES-256-GCM: nonce || ciphertext+tag; the key id travels beside it so keys can rotate.
    message_kid: str | None = Field(default=None, max_length=64)
    message_ciphertext: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary))
    entry_id: str = Field(foreign_key="wallet_journal_entries.id", max_length=32)
    created_at: datetime = _ts(index=True)


class PaymentIntent(WalletBase, table=True):
    """A deposit: recorded before the provider is called, credited when its webhook confirms it.

    creating -> requires_confirmation -> succeeded (credited, settling until `settles_at`) |
    failed; a full refund makes it refunded. `held` is the part of it still in the user's
    settling account; refunds and disputes are tracked beside it.
    """

    __tablename__ = "wallet_payment_intents"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_ref", name="uq_wallet_payment_intents_ref"),
        sa.Index("ix_wallet_payment_intents_status_settles", "status", "settles_at"),
    )

    id: str = Field(primary_key=True, max_length=32)
    provider: str = Field(max_length=32)
    # NULL until the provider answered (the row is committed before the provider is called).
    provider_ref: str | None = Field(default=None, max_length=128)
    # The idempotency key the provider sees, so a retry after a crash creates nothing new.
    provider_key: str | None = Field(default=None, max_length=400)
    user_id: str = Field(max_length=128, index=True)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    status: str = Field(max_length=32)  # creating | requires_confirmation | succeeded | failed | refunded
    client_secret: str | None = Field(default=None, max_length=128)
    entry_id: str | None = Field(default=None, max_length=32)
    held: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))
    settles_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    settled_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    refunded: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))
    dispute_ref: str | None = Field(default=None, max_length=128)
    dispute_status: str | None = Field(default=None, max_length=16)  # open | won | lost
    disputed: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))
    # The part of the disputed amount the user had already spent (taken into the receivable).
    dispute_shortfall: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    failure_reason: str | None = Field(default=None, max_length=256)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class WebhookEvent(WalletBase, table=True):
    """Every verified webhook, applied or not; (provider, event_id) deduplicates deliveries."""

    __tablename__ = "wallet_webhook_events"
    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id", name="uq_wallet_webhook_events_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32)
    event_id: str = Field(max_length=128)
    event_type: str = Field(max_length=64)
    intent_ref: str | None = Field(default=None, max_length=128)
    outcome: str = Field(max_length=32)  # applied | unknown_intent | ignored
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    received_at: datetime = _ts()


class Cashout(WalletBase, table=True):
    """A withdrawal: requested -> processing -> paid | failed -> reversed."""

    __tablename__ = "wallet_cashouts"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(max_length=128, index=True)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    status: str = Field(max_length=16, index=True)
    hold_entry_id: str | None = Field(default=None, max_length=32)
    settle_entry_id: str | None = Field(default=None, max_length=32)
    payout_ref: str | None = Field(default=None, max_length=128)
    failure_reason: str | None = Field(default=None, max_length=256)
    attempts: int = Field(default=0)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class EscrowHold(WalletBase, table=True):
    """Funds another subgraph holds on a user's behalf until it captures or releases them."""

    __tablename__ = "wallet_escrow_holds"

    id: str = Field(primary_key=True, max_length=32)
    service: str = Field(max_length=64)
    payer_id: str = Field(max_length=128, index=True)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    captured: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))
    released: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))
    status: str = Field(max_length=16)  # held | captured | released
    reference: str | None = Field(default=None, max_length=128)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


# The kit's outbox_events / processed_events live in the wallet database too.
include_event_tables(metadata)


class Plan(WalletBase, table=True):
    """A creator's monthly subscription plan."""

    __tablename__ = "wallet_plans"

    id: str = Field(primary_key=True, max_length=32)
    creator_id: str = Field(max_length=128, index=True)
    name: str = Field(max_length=100)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    active: bool = Field(default=True)
    created_at: datetime = _ts()


class Subscription(WalletBase, table=True):
    """A subscriber's plan: active -> past_due (grace) -> active | expired; or canceled."""

    __tablename__ = "wallet_subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "subscriber_id", name="uq_wallet_subscriptions_plan_subscriber"),
        sa.Index("ix_wallet_subscriptions_due", "status", "current_period_end"),
    )

    id: str = Field(primary_key=True, max_length=32)
    plan_id: str = Field(foreign_key="wallet_plans.id", max_length=32)
    subscriber_id: str = Field(max_length=128, index=True)
    creator_id: str = Field(max_length=128)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    status: str = Field(max_length=16)  # active | past_due | canceled | expired
    current_period_end: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    cancel_at_period_end: bool = Field(default=False)
    grace_until: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
