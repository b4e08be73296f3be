"""Social's internal API: post lookups for the services that reference posts, block checks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.db import Database
from shared.errors import BadUserInputError
from shared.internal import InternalRequest, InternalRoute
from shared.references import MAX_ID, POST, lookup_ids
from subgraphs.social.models import Post
from subgraphs.social.services import blocks

__all__ = ["BLOCKS_CHECK", "BLOCK_CALLERS", "CALLERS", "internal_routes"]

# Tips reference posts (wallet); moderation and markets will too.
CALLERS = frozenset({"wallet", "moderation", "markets", "content"})
# Whether two users blocked one another (either way): wallet asks before a tip moves money.
BLOCKS_CHECK = "/internal/blocks/check"
BLOCK_CALLERS = frozenset({"wallet"})


def internal_routes(*, database: Database) -> list[InternalRoute]:
    async def lookup_posts(request: InternalRequest) -> dict[str, Any]:
        ids = lookup_ids(request.body)
        wanted = [i for i in ids if len(i) <= 32]
        if not wanted:
            return {"found": []}
        async with database.session() as session:
            rows = await session.execute(sa.select(Post.id).where(Post.id.in_(wanted)))  # type: ignore[attr-defined]
            return {"found": [row[0] for row in rows]}

    async def check_blocks(request: InternalRequest) -> dict[str, Any]:
        user_id, other_id = request.body.get("userId"), request.body.get("otherId")
        if not all(isinstance(v, str) and 0 < len(v) <= MAX_ID for v in (user_id, other_id)):
            raise BadUserInputError(f"userId and otherId must be strings of 1 to {MAX_ID} characters",
                                    extensions={"field": "userId"})
        async with database.session() as session:
            blocked = await blocks.is_blocked_between(session=session, user_id=str(user_id), other_id=str(other_id))
        return {"blocked": blocked}

    return [InternalRoute(path=POST.path, handler=lookup_posts, callers=CALLERS),
            InternalRoute(path=BLOCKS_CHECK, handler=check_blocks, callers=BLOCK_CALLERS)]
