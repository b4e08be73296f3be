"""Moderation's verdict on a text before social commits it: published, held, or refused."""

from __future__ import annotations

import logging
from typing import Literal

from shared.errors import BadUserInputError, ServiceUnavailableError
from shared.internal import InternalClient

__all__ = ["CHECK_PATH", "HELD", "VISIBLE", "screen"]

log = logging.getLogger("tributary.social.moderation")

CHECK_PATH = "/internal/moderation/check"
VISIBLE, HELD = "visible", "held"


async def screen(client: InternalClient, *, surface: Literal["post", "comment"], text: str,
                 author_id: str, subject_id: str | None, policy: Literal["open", "closed"],
                 argument: str = "text") -> str:
    """The moderation state the new row gets: VISIBLE or HELD; BLOCK raises BAD_USER_INPUT
    (reason CONTENT_BLOCKED). When moderation cannot answer, `policy` decides."""
    body = {"surface": surface, "text": text, "authorId": author_id, "subjectId": subject_id}
    try:
        verdict = await client.call("moderation", CHECK_PATH, body)
    except ServiceUnavailableError:
        if policy == "closed":
            raise ServiceUnavailableError(
                f"Moderation cannot check this {surface} now; try again later",
                extensions={"service": "moderation", "reason": "MODERATION_UNAVAILABLE"}) from None
        log.warning("moderation unavailable: %s by %s published unchecked", surface, author_id)
        return VISIBLE
    action = verdict.get("action")
    if action == "BLOCK":
        reason = verdict.get("reason") or "POLICY"
        raise BadUserInputError(
            f"This {surface} was refused by moderation ({reason})",
            extensions={"argument": argument, "reason": "CONTENT_BLOCKED",
                        "moderationReason": reason, "verdictId": verdict.get("verdictId")})
    # Anything but a plain ALLOW waits for a reviewer.
    return VISIBLE if action == "ALLOW" else HELD
