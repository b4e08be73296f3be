"""`Money`: an amount in one currency, as a decimal string and as integer minor units."""

from __future__ import annotations

import strawberry

from subgraphs.wallet.services.money import CURRENCIES, format_amount

__all__ = ["CurrencyInfo", "Money", "money", "money_list"]


@strawberry.federation.type(shareable=True, description="An amount of money. Minor units are a string: they may exceed 2^31.")
class Money:
    currency: str
    amount: str = strawberry.field(description='Decimal in major units, e.g. "12.50".')
    minor_units: str = strawberry.field(description='Integer minor units, e.g. "1250".')


@strawberry.type
class CurrencyInfo:
    code: str
    exponent: int


def money(minor: int, currency: str) -> Money:
    return Money(currency=currency, amount=format_amount(minor, CURRENCIES[currency]), minor_units=str(minor))


def money_list(totals: dict[str, int]) -> list[Money]:
    return [money(total, currency) for currency, total in sorted(totals.items())]
