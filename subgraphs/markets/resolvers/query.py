"""Query root fields of markets."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.markets import _context as ctx
from subgraphs.markets.services import bounties
from subgraphs.markets.services.transitions import BountyStatus
from subgraphs.markets.types.bounty import Bounty

__all__ = ["Query"]


@strawberry.type
class Query:
    @strawberry.field(description="A bounty by id (drafts only for their poster).")
    async def bounty(self, info: Info[Any, Any], id: strawberry.ID) -> Bounty | None:
        async with ctx.session(info) as session:
            row = await bounties.get_bounty(session=session, bounty_id=str(id))
        if row is None or (row.status == BountyStatus.DRAFT and row.poster_id != ctx.viewer_id(info)):
            return None
        return Bounty.from_row(row)

    @strawberry.field(description="Open bounties, newest first, optionally with a tag.")
    async def open_bounties(self, info: Info[Any, Any], tag: str | None = None,
                            first: int = 20) -> list[Bounty]:
        async with ctx.session(info) as session:
            rows = await bounties.list_bounties(session=session, status=BountyStatus.OPEN,
                                                tag=tag, first=first)
        return [Bounty.from_row(r) for r in rows]
