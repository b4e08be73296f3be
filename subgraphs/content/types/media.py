"""`Media`: one uploaded object, owned by a user; others see it only once it is READY."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.content import _context as ctx
from subgraphs.content import loaders
from subgraphs.content.models import Media as MediaRow
from subgraphs.content.services import progress as progress_service
from subgraphs.content.services.kinds import MediaKind, MediaStatus
from subgraphs.content.types.user import User

__all__ = ["Media", "MediaProcessed", "MediaRendition", "visible_to"]

MediaKindType = strawberry.enum(MediaKind, name="MediaKind")
MediaStatusType = strawberry.enum(MediaStatus, name="MediaStatus")


def visible_to(row: MediaRow, viewer: str | None) -> bool:
    """The owner sees every state of their media; everyone else only READY media."""
    return row.owner_id == viewer or row.status == MediaStatus.READY.value


@strawberry.type(description="One HLS rendition of a video.")
class MediaRendition:
    width: int
    height: int
    bandwidth: int = strawberry.field(description="Peak segment bitrate, bits per second.")
    average_bandwidth: int
    codecs: str


@strawberry.type(description="A media's processing state, as `mediaProcessed` reports it.")
class MediaProcessed:
    media_id: strawberry.ID
    status: MediaStatusType  # type: ignore[valid-type]
    progress: int = strawberry.field(description="Percent done (100 once READY).")
    failure_reason: str | None

    @classmethod
    def from_event(cls, event: progress_service.ProgressEvent) -> MediaProcessed:
        return cls(media_id=strawberry.ID(event.media_id), status=MediaStatus(event.status),
                   progress=event.progress, failure_reason=event.failure_reason)


@strawberry.federation.type(keys=["id"])
class Media:
    id: strawberry.ID
    # identity's entity: nullable, so an owner identity cannot resolve nulls this field only
    # (docs/entity-references.md).
    owner: User | None
    kind: MediaKindType  # type: ignore[valid-type]
    status: MediaStatusType  # type: ignore[valid-type]
    size: int = strawberry.field(description="Declared size in bytes.")
    content_type: str | None = strawberry.field(
        description="MIME type detected from the bytes (null until enough bytes arrived).")
    sha256: str | None = strawberry.field(description="Hex sha256 of the bytes, once uploaded.")
    created_at: datetime
    width: int | None = strawberry.field(description="Display width (rotation applied), videos.")
    height: int | None = strawberry.field(description="Display height (rotation applied), videos.")
    duration: float | None = strawberry.field(description="Seconds, videos.")
    _row: strawberry.Private[MediaRow]

    @classmethod
    def from_row(cls, row: MediaRow) -> Media:
        return cls(id=strawberry.ID(row.id), owner=User(id=strawberry.ID(row.owner_id)),
                   kind=MediaKind(row.kind), status=MediaStatus(row.status), size=row.size,
                   content_type=row.content_type, sha256=row.sha256, created_at=row.created_at,
                   width=row.width, height=row.height, duration=row.duration_seconds, _row=row)

    @classmethod
    async def resolve_reference(cls, info: Info[Any, Any], id: strawberry.ID) -> Media | None:
        row = await loaders.load_media(info, str(id))
        if row is None or not visible_to(row, ctx.viewer_id(info)):
            return None
        return cls.from_row(row)

    @strawberry.field(description="Bytes received so far (the owner only).")
    def uploaded_bytes(self, info: Info[Any, Any]) -> int | None:
        return self._row.received if self._row.owner_id == ctx.viewer_id(info) else None

    @strawberry.field(description="The name it was uploaded under (the owner only).")
    def filename(self, info: Info[Any, Any]) -> str | None:
        return self._row.filename if self._row.owner_id == ctx.viewer_id(info) else None

    @strawberry.field(description="Why it FAILED, in words (the owner only).")
    def failure_reason(self, info: Info[Any, Any]) -> str | None:
        return self._row.failure_reason if self._row.owner_id == ctx.viewer_id(info) else None

    @strawberry.field(description="The HLS renditions processing made (videos), smallest first.")
    async def renditions(self, info: Info[Any, Any]) -> list[MediaRendition]:
        return [MediaRendition(width=r.width, height=r.height, bandwidth=r.bandwidth,
                               average_bandwidth=r.average_bandwidth, codecs=r.codecs)
                for r in await loaders.load_renditions(info, str(self.id))]

    @strawberry.field(description="A signed URL that plays this READY media until it expires: "
                      "the HLS master playlist of a processed video, else the file itself.")
    def playback_url(self, info: Info[Any, Any]) -> str | None:
        row = self._row
        if row.status != MediaStatus.READY.value or row.storage_key is None:
            return None
        runtime = ctx.runtime(info)
        file = "master.m3u8" if row.hls_master_key else "file"
        path = runtime.signer.path(row.id, ttl=runtime.settings.playback_ttl_seconds, file=file)
        return runtime.public_url(str(info.context.request.base_url)) + path

    @strawberry.field(description="Processing progress in percent (100 once READY).")
    async def progress(self, info: Info[Any, Any]) -> int:
        if self._row.status == MediaStatus.READY.value:
            return 100
        return await progress_service.last_progress(info.context.kv, self._row.id) or 0
