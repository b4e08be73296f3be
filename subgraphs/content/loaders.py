"""Per-request DataLoaders: media rows by id (entity references, lookups)."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import session_loader
from subgraphs.content.models import Media, Rendition
from subgraphs.content.services import media

__all__ = ["load_media", "load_renditions"]


async def load_media(info: Info[Any, Any], media_id: str) -> Media | None:
    async def batch(session: Any, keys: list[str]) -> dict[str, Media]:
        return await media.media_by_ids(session=session, ids=keys)

    return await session_loader(info, "media", batch).load(media_id)  # type: ignore[no-any-return]


async def load_renditions(info: Info[Any, Any], media_id: str) -> list[Rendition]:
    async def batch(session: Any, keys: list[str]) -> dict[str, list[Rendition]]:
        return await media.renditions_of(session=session, media_ids=keys)

    return await session_loader(info, "renditions", batch).load(media_id) or []
