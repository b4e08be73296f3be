"""Mutation root fields of the content subgraph."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.content import _context as ctx
from subgraphs.content.services.kinds import MediaKind
from subgraphs.content.tus import upload_url
from subgraphs.content.types.media import Media, MediaKindType
from subgraphs.content.types.upload import CreateUploadPayload

__all__ = ["Mutation"]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start an upload of `size` bytes: a Media in UPLOADING "
                         "and the tus URL its bytes go to.")
    async def create_upload(self, info: Info[Any, Any], kind: MediaKindType,  # type: ignore[valid-type]
                            filename: str, size: int) -> CreateUploadPayload:
        owner = ctx.require_user(info)
        runtime = ctx.runtime(info)
        base = str(info.context.request.base_url)
        row = await runtime.uploads.create(owner_id=owner, kind=MediaKind(kind),
                                           filename=filename, size=size)
        assert row.expires_at is not None
        return CreateUploadPayload(media=Media.from_row(row),
                                   upload_url=upload_url(runtime.public_url(base), row.id),
                                   expires_at=row.expires_at)
