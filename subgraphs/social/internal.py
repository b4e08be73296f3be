"""Social's internal API: post lookups for the services that reference posts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.db import Database
from shared.errors import BadUserInputError
from shared.internal import InternalRequest, InternalRoute
from shared.references import POST
from subgraphs.social.models import Post

__all__ = ["CALLERS", "internal_routes"]

# Tips reference posts (wallet); moderation and markets will too.
CALLERS = frozenset({"wallet", "moderation", "markets", "content"})
_MAX_IDS = 200


def internal_routes(*, database: Database) -> list[InternalRoute]:
    async def lookup_posts(request: InternalRequest) -> dict[str, Any]:
        ids = request.body.get("ids")
        if (not isinstance(ids, list) or len(ids) > _MAX_IDS
                or not all(isinstance(i, str) for i in ids)):
            raise BadUserInputError(f"ids must be a list of at most {_MAX_IDS} strings",
                                    extensions={"field": "ids"})
        wanted = [i for i in ids if len(i) <= 32]
        if not wanted:
            return {"found": []}
        async with database.session() as session:
            rows = await session.execute(sa.select(Post.id).where(Post.id.in_(wanted)))  # type: ignore[attr-defined]
            return {"found": [row[0] for row in rows]}

    return [InternalRoute(path=POST.path, handler=lookup_posts, callers=CALLERS)]
