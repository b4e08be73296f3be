"""social's `Post`, extended with the tips it earned."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.wallet import loaders
from subgraphs.wallet.types.money import Money, money_list

__all__ = ["Post"]


@strawberry.federation.type(keys=["id"])
class Post:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Post:
        return cls(id=id)

    @strawberry.field(description="Sum of tips on this post, per currency.")
    async def tips_total(self, info: Info[Any, Any]) -> list[Money]:
        return money_list(await loaders.load_post_totals(info, str(self.id)))
