"""Per-request DataLoaders (batched User lookups for _entities and users(ids))."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from subgraphs.identity import models
from subgraphs.identity.services.users import get_users

__all__ = ["load_user", "user_loader"]

_USERS = "identity.users"


def user_loader(info: Info[Any, Any]) -> DataLoader[str, models.User | None]:
    context = info.context
    loader = context.loaders.get(_USERS)
    if loader is None:
        database = context.database

        async def batch(ids: Sequence[str]) -> list[models.User | None]:
            async with database.session() as session:
                return await get_users(session=session, ids=list(ids))

        loader = DataLoader(load_fn=batch)
        context.loaders[_USERS] = loader
    return loader  # type: ignore[no-any-return]


async def load_user(info: Info[Any, Any], user_id: str) -> models.User | None:
    return await user_loader(info).load(user_id)
