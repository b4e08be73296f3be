"""Creator subscription plans and subscriptions."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from subgraphs.wallet.services.subscriptions import PlanView, SubscriptionView
from subgraphs.wallet.types.money import Money, money
from subgraphs.wallet.types.user import User

__all__ = ["CreatorSubscription", "CreatorSubscriptionStatus", "SubscriptionPlan"]


@strawberry.type(description="A creator's monthly plan.")
class SubscriptionPlan:
    id: strawberry.ID
    creator: User | None  # identity's entity: nullable (docs/entity-references.md)
    name: str
    price: Money

    @classmethod
    def from_view(cls, view: PlanView) -> SubscriptionPlan:
        return cls(id=strawberry.ID(view.id), creator=User(id=strawberry.ID(view.creator_id)),
                   name=view.name, price=money(view.amount, view.currency))


@strawberry.enum
class CreatorSubscriptionStatus(Enum):
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    EXPIRED = "expired"


@strawberry.type
class CreatorSubscription:
    id: strawberry.ID
    plan_id: strawberry.ID
    creator: User | None  # identity's entity: nullable (docs/entity-references.md)
    price: Money
    status: CreatorSubscriptionStatus
    current_period_end: datetime
    cancel_at_period_end: bool
    grace_until: datetime | None

    @classmethod
    def from_view(cls, view: SubscriptionView) -> CreatorSubscription:
        return cls(
            id=strawberry.ID(view.id), plan_id=strawberry.ID(view.plan_id),
            creator=User(id=strawberry.ID(view.creator_id)), price=money(view.amount, view.currency),
            status=CreatorSubscriptionStatus(view.status), current_period_end=view.current_period_end,
            cancel_at_period_end=view.cancel_at_period_end, grace_until=view.grace_until,
        )
