"""Subscription root fields: processing progress, to the media's owner only. Authorization
happens before the stream starts, so a refused subscriber gets an error and no events."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import ForbiddenError, NotFoundError
from shared.redis import KeyValue
from subgraphs.content import _context as ctx
from subgraphs.content.services import media as media_service
from subgraphs.content.services import progress
from subgraphs.content.services.kinds import MediaStatus
from subgraphs.content.types.media import MediaProcessed

__all__ = ["Subscription"]

_FINAL = {MediaStatus.READY.value, MediaStatus.FAILED.value}


async def _current(info: Info[Any, Any], kv: KeyValue, media_id: str) -> MediaProcessed:
    async with ctx.session(info) as session:
        row = await media_service.get_media(session=session, media_id=media_id)
    assert row is not None
    percent = 100 if row.status == MediaStatus.READY.value else (
        await progress.last_progress(kv, media_id) or 0)
    return MediaProcessed.from_event(progress.ProgressEvent(
        media_id=media_id, status=row.status, progress=percent,
        failure_reason=row.failure_reason))


async def _stream(info: Info[Any, Any], kv: KeyValue, media_id: str
                  ) -> AsyncGenerator[MediaProcessed, None]:
    async with kv.subscribe(progress.channel(media_id)) as messages:
        # Subscribed first, then the state read: no change can fall between the two.
        current = await _current(info, kv, media_id)
        yield current
        if current.status.value in _FINAL:
            return
        async with contextlib.aclosing(messages):
            async for _, raw in messages:
                event = progress.ProgressEvent.from_json(raw)
                yield MediaProcessed.from_event(event)
                if event.status in _FINAL:
                    return


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The owner's view of a media's processing: its state "
                             "now, then each change (progress in percent) until READY or FAILED.")
    async def media_processed(self, info: Info[Any, Any], media_id: strawberry.ID
                              ) -> AsyncGenerator[MediaProcessed, None]:
        user = ctx.require_user(info)
        async with ctx.session(info) as session:
            row = await media_service.get_media(session=session, media_id=str(media_id))
        if row is None:
            raise NotFoundError(f"No media with id {str(media_id)!r}")
        if row.owner_id != user:
            raise ForbiddenError("Only the owner follows a media's processing",
                                 extensions={"reason": "NOT_OWNER"})
        return _stream(info, info.context.kv, str(media_id))
