"""Input validation shared by identity's services; every failure is a BAD_USER_INPUT naming the field."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from shared.errors import BadUserInputError

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SCOPE_RE = re.compile(r"^[a-z][a-z_]*(:[a-z_*]+)?$|^\*$")
RESERVED_HANDLES = frozenset(
    {"admin", "administrator", "root", "system", "support", "moderator", "tributary", "me", "null"}
)
MAX_SCOPES = 20


def bad(field: str, message: str, reason: str = "INVALID") -> BadUserInputError:
    return BadUserInputError(message, extensions={"field": field, "reason": reason})


def validate_handle(handle: str) -> str:
    if not HANDLE_RE.match(handle):
        raise bad("handle", "Handle must be 3-30 characters of letters, digits or underscore.")
    if handle.lower() in RESERVED_HANDLES:
        raise bad("handle", f"Handle '{handle}' is reserved.", "RESERVED")
    return handle


def handle_key(handle: str) -> str:
    return handle.lower()


def validate_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise bad("email", "Email address is not valid.")
    return email.lower()


def validate_text(field: str, value: str | None, *, max_length: int) -> str | None:
    if value is None:
        return None
    if len(value) > max_length:
        raise bad(field, f"{field} must be at most {max_length} characters.", "TOO_LONG")
    # Control characters (other than newlines in bios) make for spoofed or broken displays.
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise bad(field, f"{field} must not contain control characters.")
    value = value.strip()
    return value or None


def validate_avatar_url(url: str | None) -> str | None:
    if url is None or url.strip() == "":
        return None
    url = url.strip()
    if len(url) > 2048:
        raise bad("avatarUrl", "avatarUrl must be at most 2048 characters.", "TOO_LONG")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in url):
        raise bad("avatarUrl", "avatarUrl must be an https URL.")
    return url


def validate_scopes(scopes: list[str]) -> list[str]:
    if len(scopes) > MAX_SCOPES:
        raise bad("scopes", f"At most {MAX_SCOPES} scopes per key.", "TOO_MANY")
    cleaned: list[str] = []
    for scope in scopes:
        if len(scope) > 64 or not _SCOPE_RE.match(scope):
            raise bad("scopes", "Scopes look like 'read', 'write' or 'identity:read'.")
        if scope not in cleaned:
            cleaned.append(scope)
    if not cleaned:
        raise bad("scopes", "An API key needs at least one scope.", "EMPTY")
    return cleaned
