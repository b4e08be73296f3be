"""The caller's wallet, deposits and cashouts."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from subgraphs.wallet.services.cashouts import CashoutView
from subgraphs.wallet.services.deposits import IntentView
from subgraphs.wallet.types.money import Money, money

__all__ = ["Cashout", "CashoutStatus", "Deposit", "DepositStatus", "Wallet"]


@strawberry.type
class Wallet:
    balances: list[Money] = strawberry.field(
        description="Available: what can be tipped, held or cashed out."
    )
    settling: list[Money] = strawberry.field(
        description="Confirmed deposits still in their settlement hold (not spendable yet)."
    )
    disputed: list[Money] = strawberry.field(description="Frozen by open payment disputes.")
    owed: list[Money] = strawberry.field(
        description="What the caller owes after refunds or disputes of money already spent; "
        "while any is owed, nothing can be sent or cashed out."
    )


@strawberry.enum
class DepositStatus(Enum):
    CREATING = "creating"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


@strawberry.type
class Deposit:
    id: strawberry.ID
    provider: str
    provider_ref: str | None = strawberry.field(description="Null until the provider has answered.")
    client_secret: str | None
    status: DepositStatus
    amount: Money
    settles_at: datetime | None = strawberry.field(
        description="When a confirmed deposit becomes available (null before confirmation)."
    )
    settled: bool
    refunded: Money
    disputed: Money

    @classmethod
    def from_view(cls, view: IntentView) -> Deposit:
        return cls(id=strawberry.ID(view.id), provider=view.provider, provider_ref=view.provider_ref,
                   client_secret=view.client_secret, status=DepositStatus(view.status),
                   amount=money(view.amount, view.currency), settles_at=view.settles_at,
                   settled=view.settled_at is not None, refunded=money(view.refunded, view.currency),
                   disputed=money(view.disputed if view.dispute_status == "open" else 0, view.currency))


@strawberry.enum
class CashoutStatus(Enum):
    REQUESTED = "requested"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"


@strawberry.type
class Cashout:
    id: strawberry.ID
    status: CashoutStatus
    amount: Money
    failure_reason: str | None

    @classmethod
    def from_view(cls, view: CashoutView) -> Cashout:
        return cls(id=strawberry.ID(view.id), status=CashoutStatus(view.status),
                   amount=money(view.amount, view.currency), failure_reason=view.failure_reason)
