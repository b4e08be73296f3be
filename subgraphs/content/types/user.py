"""identity's `User`, extended with the media they uploaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from subgraphs.content import _context as ctx
from subgraphs.content.services import media

if TYPE_CHECKING:
    from subgraphs.content.types.media import Media

__all__ = ["User"]


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    @strawberry.field(description="This user's media, newest first: every state for the user "
                      "themself, READY ones for everyone else.")
    async def media(self, info: Info[Any, Any], first: int = 20
                    ) -> list[Annotated[Media, strawberry.lazy("subgraphs.content.types.media")]]:
        from subgraphs.content.types.media import Media

        own = ctx.viewer_id(info) == str(self.id)
        async with ctx.session(info) as session:
            rows = await media.list_owner_media(session=session, owner_id=str(self.id),
                                                first=first, ready_only=not own)
        return [Media.from_row(r) for r in rows]
