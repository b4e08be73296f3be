"""identity's `User`, extended with the bounties they posted and applied to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from shared.context import session
from subgraphs.markets.services import bounties

if TYPE_CHECKING:
    from subgraphs.markets.types.bounty import Bounty

__all__ = ["User"]


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    @strawberry.field(description="Bounties this user posted, newest first.")
    async def bounties_posted(self, info: Info[Any, Any], first: int = 20
                              ) -> list[Annotated[Bounty, strawberry.lazy("subgraphs.markets.types.bounty")]]:
        from subgraphs.markets.types.bounty import Bounty

        async with session(info) as db:
            found = await bounties.list_bounties(session=db, poster_id=str(self.id), first=first)
        return [Bounty.from_row(b) for b in found]
