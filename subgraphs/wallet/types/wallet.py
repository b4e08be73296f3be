"""The caller's wallet, deposits and cashouts."""

from __future__ import annotations

from enum import Enum

import strawberry

from subgraphs.wallet.services.cashouts import CashoutView
from subgraphs.wallet.services.deposits import IntentView
from subgraphs.wallet.types.money import Money, money

__all__ = ["Cashout", "CashoutStatus", "Deposit", "DepositStatus", "Wallet"]


@strawberry.type
class Wallet:
    balances: list[Money]


@strawberry.enum
class DepositStatus(Enum):
    REQUIRES_CONFIRMATION = "requires_confirmation"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type
class Deposit:
    id: strawberry.ID
    provider: str
    provider_ref: str
    client_secret: str | None
    status: DepositStatus
    amount: Money

    @classmethod
    def from_view(cls, view: IntentView) -> Deposit:
        return cls(id=strawberry.ID(view.id), provider=view.provider, provider_ref=view.provider_ref,
                   client_secret=view.client_secret, status=DepositStatus(view.status),
                   amount=money(view.amount, view.currency))


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
