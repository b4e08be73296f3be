"""The tus 1.0 endpoint on the content service's public port (`/uploads`).

Core protocol plus the creation, creation-with-upload, termination, checksum (sha1, sha256)
and expiration extensions. Every request but OPTIONS needs the caller's access token or API
key, exactly as on /graphql (an API key needs `content:write`/`write`, or a read scope for
HEAD), and acts only on the caller's own uploads.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC
from email.utils import format_datetime
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth import ApiKeyResolver, Caller, TokenVerifier, authenticate_request
from shared.errors import BadUserInputError, ForbiddenError, TributaryError
from shared.scopes import missing_scope
from subgraphs.content.models import Media
from subgraphs.content.services.kinds import MediaKind, MediaStatus, kind_of
from subgraphs.content.services.uploads import (
    Checksum,
    TooLargeError,
    Uploads,
    parse_checksum,
)

__all__ = ["TUS_PATH", "TUS_VERSION", "tus_routes", "upload_url"]

TUS_PATH = "/uploads"
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
_STATUS = {
    "BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
    "CONFLICT": 409, "GONE": 410, "PAYLOAD_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415,
    "CHECKSUM_MISMATCH": 460, "RATE_LIMITED": 429, "SERVICE_UNAVAILABLE": 503,
}
_EXPOSED = ("Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, "
            "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm")


def upload_url(base: str, media_id: str) -> str:
    return f"{base.rstrip('/')}{TUS_PATH}/{media_id}"


def _response(status: int, headers: dict[str, str] | None = None,
              body: dict[str, Any] | None = None) -> Response:
    sent = {"Tus-Resumable": TUS_VERSION, "Access-Control-Expose-Headers": _EXPOSED,
            "Cache-Control": "no-store", **(headers or {})}
    if body is None:
        return Response(status_code=status, headers=sent)
    return Response(orjson.dumps(body), status_code=status, headers=sent,
                    media_type="application/json")


def _error(error: TributaryError) -> Response:
    body = {"error": {**error.extensions, "code": error.code, "message": error.message}}
    headers = {"WWW-Authenticate": "Bearer"} if error.code == "UNAUTHENTICATED" else {}
    return _response(_STATUS.get(error.code, 500), headers, body)


def _upload_headers(media: Media) -> dict[str, str]:
    headers = {"Upload-Offset": str(media.received), "Upload-Length": str(media.size)}
    expires = media.expires_at
    if expires is not None and media.status == MediaStatus.UPLOADING.value:
        # SQLite hands datetimes back naive; they are UTC.
        aware = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        headers["Upload-Expires"] = format_datetime(aware.astimezone(UTC), usegmt=True)
    if media.upload_metadata:
        headers["Upload-Metadata"] = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}" if v else k
            for k, v in media.upload_metadata.items())
    return headers


def parse_metadata(header: str) -> dict[str, str]:
    """`Upload-Metadata: key base64,key2 base64` -> {key: value} (values must be UTF-8)."""
    found: dict[str, str] = {}
    for pair in (p.strip() for p in header.split(",")):
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        if not key or key in found or len(key) > 100:
            raise BadUserInputError("Upload-Metadata keys must be unique and non-empty",
                                    extensions={"reason": "METADATA"})
        try:
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadUserInputError(f"Upload-Metadata {key!r} is not base64 of UTF-8",
                                    extensions={"reason": "METADATA"}) from None
    return found


def _kind(metadata: dict[str, str]) -> MediaKind:
    declared = metadata.get("kind", "").upper()
    if declared:
        try:
            return MediaKind(declared)
        except ValueError:
            raise BadUserInputError(f"Unknown kind {declared!r}", extensions={
                "reason": "INVALID_KIND", "kinds": [k.value for k in MediaKind]}) from None
    kind = kind_of(metadata.get("filetype") or metadata.get("contentType") or "")
    if kind is None:
        raise BadUserInputError("Upload-Metadata needs a kind (IMAGE, VIDEO or AUDIO) or a "
                                "filetype", extensions={"reason": "INVALID_KIND"})
    return kind


def _int_header(request: Request, name: str) -> int:
    raw = request.headers.get(name)
    if raw is None or not raw.isdigit():
        raise BadUserInputError(f"{name} must be a non-negative integer",
                                extensions={"reason": "HEADER", "header": name})
    return int(raw)


def _checksum(request: Request) -> Checksum | None:
    header = request.headers.get("upload-checksum")
    return parse_checksum(header) if header else None


class _UnsupportedContentTypeError(Exception):
    pass


class _IncompleteBodyError(Exception):
    pass


Handler = Callable[[Request, Caller], Awaitable[Response]]


def tus_routes(*, uploads: Uploads, verifier: TokenVerifier | None,
               api_keys: ApiKeyResolver | None, service: str, public_url: str | None,
               max_size: int) -> list[Route]:
    """The tus routes; `public_url` (else the request's own base URL) starts each Location."""
    options_headers = {"Tus-Version": TUS_VERSION, "Tus-Extension": EXTENSIONS,
                       "Tus-Max-Size": str(max_size), "Tus-Checksum-Algorithm": "sha1,sha256"}

    async def caller_of(request: Request, *, write: bool) -> Caller:
        caller = await authenticate_request(request.headers, verifier, api_key_resolver=api_keys)
        caller.require_user()
        scope = missing_scope(caller, service=service, write=write)
        if scope is not None:
            raise ForbiddenError(f"This API key lacks the {scope} scope",
                                 extensions={"reason": "INSUFFICIENT_SCOPE", "scope": scope})
        return caller

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            if request.method == "OPTIONS":
                return _response(204, options_headers)
            if request.headers.get("tus-resumable") != TUS_VERSION:
                return _response(412, {"Tus-Version": TUS_VERSION}, {"error": {
                    "code": "PRECONDITION_FAILED",
                    "message": f"Tus-Resumable: {TUS_VERSION} is required"}})
            try:
                method = request.headers.get("x-http-method-override", request.method).upper()
                caller = await caller_of(request, write=method != "HEAD")
                return await handler(request, caller)
            except TributaryError as error:
                return _error(error)
            except _IncompleteBodyError:
                return _response(400, None, {"error": {
                    "code": "BAD_REQUEST", "reason": "INCOMPLETE_BODY",
                    "message": "The body ended before Content-Length: nothing of it was kept"}})
        return run

    async def body_of(request: Request) -> AsyncIterator[bytes]:
        # A chunk counts only whole: a client that goes away mid-body resumes from the
        # offset before it (HEAD), and nothing of the broken chunk is kept.
        declared = request.headers.get("content-length")
        total = 0
        try:
            async for chunk in request.stream():
                if chunk:
                    total += len(chunk)
                    yield chunk
        except ClientDisconnect:
            raise _IncompleteBodyError from None
        if declared is not None and declared.isdigit() and total != int(declared):
            raise _IncompleteBodyError

    def offset_body(request: Request) -> None:
        if request.headers.get("content-type", "").split(";")[0].strip() != OFFSET_CONTENT_TYPE:
            raise _UnsupportedContentTypeError

    async def create(request: Request, caller: Caller) -> Response:
        if request.headers.get("upload-defer-length"):
            raise BadUserInputError("Upload-Defer-Length is not supported",
                                    extensions={"reason": "DEFER_LENGTH"})
        size = _int_header(request, "upload-length")
        if size > max_size:
            raise TooLargeError(f"Upload-Length passes Tus-Max-Size {max_size}",
                                extensions={"reason": "TOO_LARGE", "limit": max_size})
        metadata = parse_metadata(request.headers.get("upload-metadata", ""))
        filename = metadata.get("filename") or metadata.get("name") or "upload"
        media = await uploads.create(owner_id=caller.require_user(), kind=_kind(metadata),
                                     filename=filename, size=size, metadata=metadata)
        location = {"Location": upload_url(public_url or str(request.base_url), media.id)}
        has_body = int(request.headers.get("content-length") or 0) > 0
        if has_body and request.headers.get("content-type", "").startswith(OFFSET_CONTENT_TYPE):
            # creation-with-upload: the body is the first chunk.
            try:
                media = await uploads.receive(media_id=media.id, user_id=caller.require_user(),
                                              offset=0, body=body_of(request),
                                              checksum=_checksum(request))
            except TributaryError as error:
                refused = _error(error)
                refused.headers.update(location)
                return refused
        return _response(201, {**location, **_upload_headers(media)})

    async def head(request: Request, caller: Caller) -> Response:
        media = await uploads.open_upload(media_id=request.path_params["media_id"],
                                          user_id=caller.require_user())
        return _response(200, _upload_headers(media))

    async def patch(request: Request, caller: Caller) -> Response:
        offset_body(request)
        offset = _int_header(request, "upload-offset")
        media = await uploads.receive(media_id=request.path_params["media_id"],
                                      user_id=caller.require_user(), offset=offset,
                                      body=body_of(request), checksum=_checksum(request))
        return _response(204, _upload_headers(media))

    async def delete(request: Request, caller: Caller) -> Response:
        await uploads.terminate(media_id=request.path_params["media_id"],
                                user_id=caller.require_user())
        return _response(204)

    async def one_upload(request: Request, caller: Caller) -> Response:
        method = request.headers.get("x-http-method-override", request.method).upper()
        handler = {"HEAD": head, "PATCH": patch, "DELETE": delete}.get(method)
        if handler is None:
            return _response(405, {"Allow": "HEAD, PATCH, DELETE, OPTIONS"})
        try:
            return await handler(request, caller)
        except _UnsupportedContentTypeError:
            return _response(415, None, {"error": {
                "code": "UNSUPPORTED_MEDIA_TYPE",
                "message": f"A PATCH body must be {OFFSET_CONTENT_TYPE}"}})

    return [
        Route(TUS_PATH, endpoint(create), methods=["POST", "OPTIONS"]),
        Route(TUS_PATH + "/{media_id}", endpoint(one_upload),
              methods=["HEAD", "PATCH", "DELETE", "POST", "OPTIONS"]),
    ]
