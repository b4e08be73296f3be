"""Per-request DataLoaders for tip totals on `User` and `Post` entities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from subgraphs.wallet.services import tips

__all__ = ["load_post_totals", "load_user_totals"]


def _loader(
    info: Info[Any, Any], name: str, batch: Callable[[Any, list[Any]], Awaitable[dict[Any, Any]]]
) -> DataLoader[Any, Any]:
    loaders: dict[str, DataLoader[Any, Any]] = info.context.loaders
    loader = loaders.get(name)
    if loader is None:
        database = info.context.database

        async def load_fn(keys: list[Any]) -> Sequence[Any]:
            async with database.session() as session:
                found = await batch(session, keys)
            return [found.get(k, {}) for k in keys]

        # No caching: totals change with every tip and a WebSocket context lives long.
        loader = loaders[name] = DataLoader(load_fn=load_fn, cache=False)
    return loader


async def load_user_totals(info: Info[Any, Any], user_id: str, direction: str) -> dict[str, int]:
    async def batch(session: Any, keys: list[str]) -> dict[str, dict[str, int]]:
        return await tips.tip_totals_by_user(session=session, user_ids=keys, direction=direction)

    return await _loader(info, f"user_totals:{direction}", batch).load(user_id)  # type: ignore[no-any-return]


async def load_post_totals(info: Info[Any, Any], post_id: str) -> dict[str, int]:
    async def batch(session: Any, keys: list[str]) -> dict[str, dict[str, int]]:
        return await tips.tip_totals_by_post(session=session, post_ids=keys)

    return await _loader(info, "post_totals", batch).load(post_id)  # type: ignore[no-any-return]
