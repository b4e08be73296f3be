"""Currencies the wallet accepts and the parsing of user-supplied amounts into minor units."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from shared.errors import BadUserInputError

__all__ = [
    "CURRENCIES",
    "MAX_AMOUNT",
    "Currency",
    "format_amount",
    "get_currency",
    "parse_amount",
    "require_minor_amount",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Currency:
    code: str
    exponent: int  # digits after the decimal point: USD 2, JPY 0


CURRENCIES: MappingProxyType[str, Currency] = MappingProxyType(
    {
        "USD": Currency(code="USD", exponent=2),
        "EUR": Currency(code="EUR", exponent=2),
        "GBP": Currency(code="GBP", exponent=2),
        "JPY": Currency(code="JPY", exponent=0),
    }
)

# 2^53 - 1: the largest integer every JSON client represents exactly; far below BIGINT's 2^63 - 1,
# so no sum of a few of them can overflow the database column either.
MAX_AMOUNT = 2**53 - 1

_DECIMAL = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")


def get_currency(code: str) -> Currency:
    currency = CURRENCIES.get(code.upper()) if isinstance(code, str) else None
    if currency is None:
        raise BadUserInputError(
            f"Unknown currency {code!r}; supported: {', '.join(sorted(CURRENCIES))}",
            extensions={"field": "currency", "reason": "UNKNOWN_CURRENCY"},
        )
    return currency


def parse_amount(text: str, currency: Currency, *, field: str = "amount") -> int:
    """Parse a decimal string in major units ("12.50") into positive integer minor units (1250)."""
    raw = text.strip() if isinstance(text, str) else ""
    if raw.startswith("-"):
        raise BadUserInputError("Amount must be positive", extensions={"field": field, "reason": "NOT_POSITIVE"})
    if not _DECIMAL.match(raw):
        raise BadUserInputError(
            f"Amount {text!r} is not a decimal number like \"12.50\"",
            extensions={"field": field, "reason": "INVALID_AMOUNT"},
        )
    value = Decimal(raw)
    minor = value.scaleb(currency.exponent)
    if minor != minor.to_integral_value():
        raise BadUserInputError(
            f"{currency.code} amounts have at most {currency.exponent} decimal places",
            extensions={"field": field, "reason": "TOO_PRECISE"},
        )
    return require_minor_amount(int(minor), field=field)


def require_minor_amount(amount: int, *, field: str = "amount") -> int:
    """Check an integer amount in minor units: positive and at most MAX_AMOUNT."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise BadUserInputError("Amount must be an integer number of minor units", extensions={"field": field, "reason": "INVALID_AMOUNT"})
    if amount <= 0:
        raise BadUserInputError("Amount must be positive", extensions={"field": field, "reason": "NOT_POSITIVE"})
    if amount > MAX_AMOUNT:
        raise BadUserInputError(
            f"Amount exceeds the maximum of {MAX_AMOUNT} minor units",
            extensions={"field": field, "reason": "TOO_LARGE"},
        )
    return amount


def format_amount(minor: int, currency: Currency) -> str:
    """Render minor units as a decimal string in major units (1250 USD -> "12.50")."""
    if currency.exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**currency.exponent)
    return f"{sign}{whole}.{frac:0{currency.exponent}d}"
