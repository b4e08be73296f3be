"""Input checks shared by the services: bad input is BAD_USER_INPUT, never a database error."""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import BadUserInputError

__all__ = ["MAX_REF_ID", "check_plain", "check_ref_ids"]

MAX_REF_ID = 64  # ids of other subgraphs' entities (users, media) are stored up to this length


def check_ref_ids(ids: Sequence[str], *, argument: str) -> list[str]:
    """Ids of users/media owned elsewhere: non-empty, at most MAX_REF_ID characters, printable."""
    for value in ids:
        if not value or len(value) > MAX_REF_ID or not value.isprintable():
            raise BadUserInputError(
                f"Invalid id in `{argument}` (1-{MAX_REF_ID} printable characters)",
                extensions={"argument": argument},
            )
    return list(ids)


def check_plain(text: str, *, argument: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it up front rather than fail in the database.
    if "\x00" in text:
        raise BadUserInputError("Text must not contain NUL characters", extensions={"argument": argument})
    return text
