"""Content's internal API: media lookups for the services that reference media.

`POST /internal/media/lookup` with `{"ids": [...]}` answers `{"found": [...], "media": {id:
{"ownerId", "status", "kind"}}}` for the ids that exist. Optional `ownerId` and `status`
narrow `found` (and `media`) to the media of that owner in that state, so a caller that may
only accept READY media of its user asks exactly that.
"""

from __future__ import annotations

from typing import Any

from shared.db import Database
from shared.errors import BadUserInputError
from shared.internal import InternalRequest, InternalRoute
from shared.references import MEDIA, lookup_ids
from subgraphs.content.services.kinds import MediaStatus
from subgraphs.content.services.media import media_by_ids

__all__ = ["LOOKUP_CALLERS", "internal_routes"]

# Posts carry media (social); moderation reviews it; markets attach it to bounties.
LOOKUP_CALLERS = frozenset({"social", "moderation", "markets"})


def _filters(body: dict[str, Any]) -> tuple[str | None, str | None]:
    owner, status = body.get("ownerId"), body.get("status")
    if owner is not None and not isinstance(owner, str):
        raise BadUserInputError("ownerId must be a string", extensions={"field": "ownerId"})
    if status is not None and status not in {s.value for s in MediaStatus}:
        raise BadUserInputError("status must be a MediaStatus",
                                extensions={"field": "status",
                                            "statuses": [s.value for s in MediaStatus]})
    return owner, status


def internal_routes(*, database: Database) -> list[InternalRoute]:
    async def lookup_media(request: InternalRequest) -> dict[str, Any]:
        ids = lookup_ids(request.body)
        owner, status = _filters(request.body)
        async with database.session() as session:
            rows = await media_by_ids(session=session, ids=ids)
        matching = [m for m in rows.values()
                    if (owner is None or m.owner_id == owner)
                    and (status is None or m.status == status)]
        return {"found": [m.id for m in matching],
                "media": {m.id: {"ownerId": m.owner_id, "status": m.status, "kind": m.kind}
                          for m in matching}}

    return [InternalRoute(path=MEDIA.path, handler=lookup_media, callers=LOOKUP_CALLERS)]
