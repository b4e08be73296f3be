"""Reads of media rows: by id, by owner, and what an owner's media take of their quota."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.content.models import Media, Rendition
from subgraphs.content.services.kinds import MediaStatus

__all__ = [
    "MAX_PAGE",
    "MEDIA_READY",
    "get_media",
    "is_media_id",
    "list_owner_media",
    "media_by_ids",
    "media_ready_event",
    "quota_used",
    "renditions_of",
]

MAX_PAGE = 100
MEDIA_READY = "content.media_ready"


def is_media_id(value: str) -> bool:
    """The shape of the ids content issues (uuid4 hex), checked before any query."""
    return 0 < len(value) <= 32 and value.isascii() and value.isalnum()


def media_ready_event(media: Media) -> dict[str, object]:
    """The payload of `content.media_ready` (moderation and social consume it)."""
    return {"mediaId": media.id, "ownerId": media.owner_id, "kind": media.kind,
            "contentType": media.content_type, "sha256": media.sha256, "size": media.size}


async def get_media(*, session: AsyncSession, media_id: str) -> Media | None:
    if not is_media_id(media_id):
        return None
    return await session.get(Media, media_id)


async def media_by_ids(*, session: AsyncSession, ids: Sequence[str]) -> dict[str, Media]:
    wanted = [i for i in dict.fromkeys(ids) if isinstance(i, str) and len(i) <= 32]
    if not wanted:
        return {}
    rows = await session.execute(sa.select(Media).where(Media.id.in_(wanted)))  # type: ignore[attr-defined]
    return {m.id: m for m in rows.scalars()}


async def list_owner_media(*, session: AsyncSession, owner_id: str, first: int,
                           ready_only: bool) -> list[Media]:
    """The owner's media, newest first (only READY ones unless the owner asks)."""
    query = sa.select(Media).where(Media.owner_id == owner_id)
    if ready_only:
        query = query.where(Media.status == MediaStatus.READY.value)
    query = query.order_by(Media.created_at.desc(), Media.id.desc())  # type: ignore[attr-defined]
    rows = await session.execute(query.limit(max(0, min(first, MAX_PAGE))))
    return list(rows.scalars())


async def quota_used(*, session: AsyncSession, owner_id: str) -> int:
    """Bytes the owner's unfinished and finished media claim (failed ones claim none)."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Media.size), 0))
        .where(Media.owner_id == owner_id, Media.status != MediaStatus.FAILED.value))
    return int(total or 0)


async def renditions_of(*, session: AsyncSession, media_ids: Sequence[str]
                        ) -> dict[str, list[Rendition]]:
    rows = await session.execute(sa.select(Rendition).where(
        Rendition.media_id.in_(list(media_ids))).order_by(Rendition.height))  # type: ignore[attr-defined]
    found: dict[str, list[Rendition]] = {}
    for row in rows.scalars():
        found.setdefault(row.media_id, []).append(row)
    return found
