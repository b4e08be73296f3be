"""Per-request DataLoaders for tip totals on `User` and `Post` entities."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import session_loader
from subgraphs.wallet.services import tips

__all__ = ["load_post_totals", "load_user_totals"]


async def load_user_totals(info: Info[Any, Any], user_id: str, direction: str) -> dict[str, int]:
    async def batch(session: Any, keys: list[str]) -> dict[str, dict[str, int]]:
        return await tips.tip_totals_by_user(session=session, user_ids=keys, direction=direction)

    return await session_loader(info, f"user_totals:{direction}", batch).load(user_id) or {}


async def load_post_totals(info: Info[Any, Any], post_id: str) -> dict[str, int]:
    async def batch(session: Any, keys: list[str]) -> dict[str, dict[str, int]]:
        return await tips.tip_totals_by_post(session=session, post_ids=keys)

    return await session_loader(info, "post_totals", batch).load(post_id) or {}
