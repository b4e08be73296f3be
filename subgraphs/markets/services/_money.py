"""Amounts as the wallet speaks them: decimal strings in, integer minor units stored."""

from __future__ import annotations

import re
from decimal import Decimal
from types import MappingProxyType

from shared.errors import BadUserInputError

__all__ = ["EXPONENTS", "MAX_AMOUNT", "format_amount", "parse_amount", "require_currency"]

# The wallet's currencies (its services.money); the wallet still judges every hold.
EXPONENTS = MappingProxyType({"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0})
MAX_AMOUNT = 2**53 - 1
_DECIMAL = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")


def require_currency(code: str) -> str:
    upper = code.upper() if isinstance(code, str) else ""
    if upper not in EXPONENTS:
        raise BadUserInputError(f"Unknown currency {code!r}; supported: {', '.join(sorted(EXPONENTS))}",
                                extensions={"field": "currency", "reason": "UNKNOWN_CURRENCY"})
    return upper


def parse_amount(text: str, currency: str, *, field: str) -> int:
    """"12.50" USD -> 1250; positive, exact to the currency's minor unit."""
    raw = text.strip() if isinstance(text, str) else ""
    if not _DECIMAL.match(raw):
        raise BadUserInputError(f"{field} must be a positive decimal like \"12.50\"",
                                extensions={"field": field, "reason": "INVALID_AMOUNT"})
    minor = Decimal(raw).scaleb(EXPONENTS[currency])
    if minor != minor.to_integral_value():
        raise BadUserInputError(f"{currency} amounts have at most {EXPONENTS[currency]} decimals",
                                extensions={"field": field, "reason": "TOO_PRECISE"})
    if not 0 < minor <= MAX_AMOUNT:
        raise BadUserInputError(f"{field} must be positive and at most {MAX_AMOUNT} minor units",
                                extensions={"field": field, "reason": "OUT_OF_RANGE"})
    return int(minor)


def format_amount(minor: int, currency: str) -> str:
    exponent = EXPONENTS.get(currency, 2)
    if exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}"
