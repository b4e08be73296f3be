"""Phone numbers (E.164 via the phonenumbers library) and emails as codes are sent to them."""

from __future__ import annotations

import phonenumbers

from shared.errors import BadUserInputError
from subgraphs.identity.messaging import Channel
from subgraphs.identity.services._validation import bad, validate_email

__all__ = ["mask_destination", "normalize_destination", "normalize_phone"]


def normalize_phone(value: str, *, field: str = "phone") -> str:
    """The E.164 form of an international number ("+" and country code required)."""
    text = value.strip()
    if len(text) > 32 or not text.startswith("+"):
        raise bad(field, "Phone number must be international, e.g. +15551234567.", "INVALID_PHONE")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise bad(field, "Phone number is not valid.", "INVALID_PHONE") from None
    if not phonenumbers.is_valid_number(number):
        raise bad(field, "Phone number is not valid.", "INVALID_PHONE")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_destination(channel: Channel, value: str) -> str:
    if channel is Channel.EMAIL:
        try:
            return validate_email(value)
        except BadUserInputError:
            raise bad("destination", "Email address is not valid.") from None
    return normalize_phone(value, field="destination")


def mask_destination(destination: str) -> str:
    """Enough to recognise one's own address, not enough to learn someone else's."""
    if "@" in destination:
        local, domain = destination.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return f"{destination[:3]}{'*' * max(len(destination) - 5, 0)}{destination[-2:]}"
