"""What `createUpload` answers: the new media and where its bytes go (a tus upload URL)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.content.types.media import Media

__all__ = ["CreateUploadPayload"]


@strawberry.type
class CreateUploadPayload:
    media: Media
    upload_url: str = strawberry.field(
        description="tus 1.0 upload URL: HEAD for the offset, PATCH the bytes from there.")
    expires_at: datetime = strawberry.field(
        description="The upload is removed, bytes and all, if unfinished by then (each "
        "PATCH moves it on).")
