"""`Money`: the wallet's shape (shareable), so a client reads rewards as it reads balances."""

from __future__ import annotations

import strawberry

from subgraphs.markets.services._money import format_amount

__all__ = ["Money", "money"]


@strawberry.federation.type(shareable=True, description="An amount of money. Minor units are a string: they may exceed 2^31.")
class Money:
    currency: str
    amount: str = strawberry.field(description='Decimal in major units, e.g. "12.50".')
    minor_units: str = strawberry.field(description='Integer minor units, e.g. "1250".')


def money(minor: int, currency: str) -> Money:
    return Money(currency=currency, amount=format_amount(minor, currency), minor_units=str(minor))
