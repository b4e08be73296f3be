"""identity's `User`, extended with the tips it sent and received."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from subgraphs.wallet import _context as ctx
from subgraphs.wallet import loaders
from subgraphs.wallet.services import tips
from subgraphs.wallet.types.money import Money, money_list

if TYPE_CHECKING:
    from subgraphs.wallet.types.plan import SubscriptionPlan
    from subgraphs.wallet.types.tip import Tip

__all__ = ["User"]

@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"])],
        description="Most recent tips this user received.")
    async def tips_received(self, info: Info[Any, Any], first: int = 20) -> list[Annotated[Tip, strawberry.lazy("subgraphs.wallet.types.tip")]]:
        return await _tips(info, str(self.id), "received", first)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"])],
        description="Most recent tips this user sent.")
    async def tips_sent(self, info: Info[Any, Any], first: int = 20) -> list[Annotated[Tip, strawberry.lazy("subgraphs.wallet.types.tip")]]:
        return await _tips(info, str(self.id), "sent", first)

    @strawberry.field(description="Sum of tips received, per currency.")
    async def tips_received_total(self, info: Info[Any, Any]) -> list[Money]:
        return money_list(await loaders.load_user_totals(info, str(self.id), "received"))

    @strawberry.field(description="Sum of tips sent, per currency.")
    async def tips_sent_total(self, info: Info[Any, Any]) -> list[Money]:
        return money_list(await loaders.load_user_totals(info, str(self.id), "sent"))

    @strawberry.field(
        directives=[ListSize(assumed_size=10)],
        description="The monthly plans this user offers.")
    async def plans(self, info: Info[Any, Any]) -> list[Annotated[SubscriptionPlan, strawberry.lazy("subgraphs.wallet.types.plan")]]:
        from subgraphs.wallet.services.subscriptions import list_plans
        from subgraphs.wallet.types.plan import SubscriptionPlan

        async with ctx.session(info) as session:
            found = await list_plans(session=session, creator_id=str(self.id))
        return [SubscriptionPlan.from_view(p) for p in found]


async def _tips(info: Info[Any, Any], user_id: str, direction: str, first: int) -> list[Tip]:
    from subgraphs.wallet.types.tip import Tip

    async with ctx.session(info) as session:
        found = await tips.list_tips(session=session, user_id=user_id, direction=direction, first=first)
    return [Tip.from_view(t) for t in found]
