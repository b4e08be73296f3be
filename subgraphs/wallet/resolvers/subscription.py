"""Subscription root fields."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.wallet import _context as ctx
from subgraphs.wallet.resolvers.mutation import tip_channel
from subgraphs.wallet.services import tips
from subgraphs.wallet.types.tip import Tip

__all__ = ["Subscription"]


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Tips the caller receives, as they happen.")
    async def tip_received(self, info: Info[Any, Any]) -> AsyncGenerator[Tip, None]:
        user_id = ctx.require_user(info)
        async with ctx.kv(info).subscribe(tip_channel(user_id)) as messages:
            async for _channel, payload in messages:
                async with ctx.session(info) as session:
                    view = await tips.get_tip(session=session, tip_id=payload.decode())
                if view is not None and view.recipient_id == user_id:
                    yield Tip.from_view(view)
