"""`Bounty` and `BountyApplication`: work with a reward in escrow, and hunters' requests."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from shared.context import session, viewer_id
from subgraphs.markets import models
from subgraphs.markets.services import bounties
from subgraphs.markets.services import transitions as t
from subgraphs.markets.types.money import Money, money
from subgraphs.markets.types.user import User

__all__ = ["Bounty", "BountyApplication", "BountyStatus", "BountyVisibility", "EscrowStatus"]

BountyStatus = strawberry.enum(t.BountyStatus, name="BountyStatus")
ApplicationStatus = strawberry.enum(t.ApplicationStatus, name="BountyApplicationStatus")


@strawberry.enum(description="Who may see a bounty. Only PUBLIC exists so far.")
class BountyVisibility(Enum):
    PUBLIC = "PUBLIC"


@strawberry.enum(description="How far the wallet's escrow hold of the reward has got.")
class EscrowStatus(Enum):
    NONE = "NONE"
    HELD = "HELD"
    RELEASING = "RELEASING"
    RELEASED = "RELEASED"
    CAPTURING = "CAPTURING"
    CAPTURED = "CAPTURED"


@strawberry.federation.type(keys=["id"])
class Bounty:
    id: strawberry.ID
    title: str
    description: str
    reward: Money = strawberry.field(description="Paid to each winner (minus the platform fee).")
    total_reward: Money = strawberry.field(description="Reward x winners: what publishing holds.")
    deadline: datetime
    tags: list[str]
    attachment_ids: list[strawberry.ID]
    visibility: BountyVisibility
    winners: int
    status: BountyStatus  # type: ignore[valid-type]
    escrow_status: EscrowStatus
    fee_bps: int = strawberry.field(description="Platform fee in basis points, fixed at publication.")
    dispute_reason: str | None
    created_at: datetime
    poster_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Bounty) -> Bounty:
        return cls(id=strawberry.ID(row.id), title=row.title, description=row.description,
                   reward=money(row.reward_minor, row.currency),
                   total_reward=money(row.reward_minor * row.winners, row.currency),
                   deadline=bounties.aware(row.deadline), tags=list(row.tags),
                   attachment_ids=[strawberry.ID(a) for a in row.attachment_ids],
                   visibility=BountyVisibility(row.visibility), winners=row.winners,
                   status=t.BountyStatus(row.status), escrow_status=EscrowStatus(row.escrow_status),
                   fee_bps=row.fee_bps, dispute_reason=row.dispute_reason,
                   created_at=bounties.aware(row.created_at), poster_id=row.poster_id)

    @classmethod
    async def resolve_reference(cls, info: Info[Any, Any], id: strawberry.ID) -> Bounty | None:
        async with session(info) as db:
            row = await bounties.get_bounty(session=db, bounty_id=str(id))
        return cls.from_row(row) if row else None

    @strawberry.field(description="The poster (null when identity does not know the account).")
    def poster(self) -> User | None:
        return User(id=strawberry.ID(self.poster_id))

    @strawberry.field(description="The poster sees every application; a hunter sees their own.")
    async def applications(self, info: Info[Any, Any]) -> list[BountyApplication]:
        viewer = viewer_id(info)
        if viewer is None:
            return []
        async with session(info) as db:
            found = await bounties.list_applications(
                session=db, bounty_id=str(self.id),
                hunter_id=None if viewer == self.poster_id else viewer)
        return [BountyApplication.from_row(a, currency=self.reward.currency) for a in found]


@strawberry.type
class BountyApplication:
    id: strawberry.ID
    message: str
    quote: Money | None
    status: ApplicationStatus  # type: ignore[valid-type]
    submission: str | None
    submission_attachment_ids: list[strawberry.ID]
    feedback: str | None
    created_at: datetime
    hunter_id: strawberry.Private[str]
    bounty_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.BountyApplication, *, currency: str) -> BountyApplication:
        return cls(id=strawberry.ID(row.id), message=row.message,
                   quote=money(row.quote_minor, currency) if row.quote_minor else None,
                   status=t.ApplicationStatus(row.status), submission=row.submission_text,
                   submission_attachment_ids=[strawberry.ID(a) for a in row.submission_attachment_ids],
                   feedback=row.feedback, created_at=bounties.aware(row.created_at),
                   hunter_id=row.hunter_id, bounty_id=row.bounty_id)

    @strawberry.field(description="The hunter (null when identity does not know the account).")
    def hunter(self) -> User | None:
        return User(id=strawberry.ID(self.hunter_id))

    @strawberry.field
    async def bounty(self, info: Info[Any, Any]) -> Bounty:
        async with session(info) as db:
            row = await bounties.get_bounty(session=db, bounty_id=self.bounty_id)
        assert row is not None
        return Bounty.from_row(row)
