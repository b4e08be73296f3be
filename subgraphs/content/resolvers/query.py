"""Query root fields of the content subgraph."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.content import _context as ctx
from subgraphs.content import loaders
from subgraphs.content.types.media import Media, visible_to

__all__ = ["Query"]


@strawberry.type
class Query:
    @strawberry.field(description="One media object: any state for its owner, READY for others.")
    async def media(self, info: Info[Any, Any], id: strawberry.ID) -> Media | None:
        row = await loaders.load_media(info, str(id))
        if row is None or not visible_to(row, ctx.viewer_id(info)):
            return None
        return Media.from_row(row)
