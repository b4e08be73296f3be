"""Per-request DataLoaders: media rows by id (entity references, lookups)."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import session_loader
from subgraphs.content.models import Media
from subgraphs.content.services import media

__all__ = ["load_media"]


async def load_media(info: Info[Any, Any], media_id: str) -> Media | None:
    async def batch(session: Any, keys: list[str]) -> dict[str, Media]:
        return await media.media_by_ids(session=session, ids=keys)

    return await session_loader(info, "media", batch).load(media_id)  # type: ignore[no-any-return]
