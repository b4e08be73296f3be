"""Playback on the content service's public port: `GET /media/<id>/<expires>/<sig>/<path>`.

Serves a READY media's original (`file`, with single-range requests for progressive playback)
and its HLS tree (master and media playlists, segments) with their content types and cache
headers. The signed URL is the credential: players fetch segments without headers of their own.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from shared.db import Database
from shared.errors import NotFoundError, TributaryError
from subgraphs.content.models import Media
from subgraphs.content.services.kinds import MediaStatus
from subgraphs.content.services.media import is_media_id
from subgraphs.content.services.playback import (
    ORIGINAL,
    PLAYBACK_PATH,
    UrlSigner,
    object_path,
)
from subgraphs.content.services.processing import hls_prefix
from subgraphs.content.services.storage import ObjectStore

__all__ = ["playback_routes"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_STATUS = {"FORBIDDEN": 403, "NOT_FOUND": 404}
_PLAYLIST = "application/vnd.apple.mpegurl"


def _error(error: TributaryError) -> Response:
    body = {"error": {**error.extensions, "code": error.code, "message": error.message}}
    return Response(orjson.dumps(body), status_code=_STATUS.get(error.code, 400),
                    media_type="application/json", headers={"Cache-Control": "no-store"})


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, length) of a single `Range: bytes=a-b`; None for the whole object."""
    if not header:
        return None
    found = _RANGE.match(header.strip())
    if found is None or not (found[1] or found[2]):
        return None  # not a form we serve: the whole object, as RFC 9110 allows
    if not found[1]:  # the last N bytes
        length = min(int(found[2]), size)
        return size - length, length
    start = int(found[1])
    end = min(int(found[2]), size - 1) if found[2] else size - 1
    if start >= size or end < start:
        raise _UnsatisfiableError
    return start, end - start + 1


class _UnsatisfiableError(Exception):
    pass


def playback_routes(*, database: Database, store: ObjectStore, signer: UrlSigner) -> list[Route]:
    async def serve(request: Request) -> Response:
        params = request.path_params
        media_id = params["media_id"]
        try:
            expires = signer.check(media_id, params["expires"], params["signature"])
            path = object_path(params["path"])
            async with database.session() as session:
                media = await session.get(Media, media_id) if is_media_id(media_id) else None
            if media is None or media.status != MediaStatus.READY.value or not media.storage_key:
                raise NotFoundError("No READY media with this id",
                                    extensions={"reason": "UNKNOWN_MEDIA"})
            original = path == ORIGINAL
            key = media.storage_key if original else f"{hls_prefix(media.storage_key)}/{path}"
            size = await store.size(key)
            if size is None:
                raise NotFoundError("No such file of this media",
                                    extensions={"reason": "UNKNOWN_PATH"})
        except TributaryError as error:
            return _error(error)
        if path.endswith(".m3u8"):
            content_type = _PLAYLIST
        elif path.endswith(".ts"):
            content_type = "video/mp2t"
        else:
            content_type = media.content_type or "application/octet-stream"
        # Shared caches may keep the bytes until the URL expires: they never change under it.
        max_age = max(0, expires - int(time.time()))
        headers = {"Cache-Control": f"public, max-age={max_age}, immutable",
                   "Accept-Ranges": "bytes" if original else "none",
                   "Access-Control-Allow-Origin": "*"}
        start, length, status = 0, size, 200
        if original:
            try:
                wanted = _byte_range(request.headers.get("range"), size)
            except _UnsatisfiableError:
                return Response(status_code=416, headers={**headers,
                                                          "Content-Range": f"bytes */{size}"})
            if wanted is not None:
                start, length = wanted
                status = 206
                headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=content_type)

        async def body() -> AsyncIterator[bytes]:
            async for chunk in store.read(key, start=start, length=length):
                yield chunk

        return StreamingResponse(body(), status_code=status, headers=headers,
                                 media_type=content_type)

    return [Route(PLAYBACK_PATH + "/{media_id}/{expires}/{signature}/{path:path}", serve,
                  methods=["GET", "HEAD"])]
