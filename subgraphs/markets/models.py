"""SQLModel tables of the markets subgraph (own MetaData, every table prefixed `markets_`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = ["Bounty", "BountyApplication", "MarketsBase", "metadata", "utcnow"]


class MarketsBase(SQLModel, registry=registry()):
    """Base of the markets tables; its MetaData is separate from every other subgraph's."""


metadata = MarketsBase.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts() -> Any:
    return Field(default_factory=utcnow,
                 sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Bounty(MarketsBase, table=True):
    """Work posted with a reward per winner; the wallet holds reward x winners in escrow."""

    __tablename__ = "markets_bounties"
    __table_args__ = (
        sa.Index("ix_markets_bounties_status_deadline", "status", "deadline"),
        sa.CheckConstraint("reward_minor > 0", name="ck_markets_bounties_reward_positive"),
        sa.CheckConstraint("winners >= 1", name="ck_markets_bounties_winners"),
    )

    id: str = Field(primary_key=True, max_length=32)
    poster_id: str = Field(max_length=64, index=True)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    reward_minor: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    deadline: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    attachment_ids: list[str] = Field(default_factory=list,
                                      sa_column=sa.Column(sa.JSON(), nullable=False))
    visibility: str = Field(default="PUBLIC", max_length=16)
    winners: int = Field(default=1)
    status: str = Field(default="DRAFT", max_length=16)
    # The wallet's hold and how far its settlement got (NONE, HELD, RELEASING, RELEASED,
    # CAPTURING, CAPTURED); RELEASING/CAPTURING are finished by the stale-bounty job.
    hold_id: str | None = Field(default=None, max_length=64)
    escrow_status: str = Field(default="NONE", max_length=16)
    # Fixed at publication so a capture retried later sends the same amounts.
    fee_bps: int = Field(default=0)
    dispute_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class BountyApplication(MarketsBase, table=True):
    """A hunter's request to work on a bounty, and (once accepted) their submission."""

    __tablename__ = "markets_bounty_applications"
    __table_args__ = (
        sa.UniqueConstraint("bounty_id", "hunter_id", name="uq_markets_applications_hunter"),
    )

    id: str = Field(primary_key=True, max_length=32)
    bounty_id: str = Field(foreign_key="markets_bounties.id", max_length=32, index=True)
    hunter_id: str = Field(max_length=64, index=True)
    message: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    quote_minor: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    status: str = Field(default="PENDING", max_length=16)
    submission_text: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    submission_attachment_ids: list[str] = Field(default_factory=list,
                                                 sa_column=sa.Column(sa.JSON(), nullable=False))
    feedback: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
