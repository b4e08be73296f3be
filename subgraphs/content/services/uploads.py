"""Resumable uploads (the tus 1.0 model, free of HTTP): create, receive a chunk, finish, end.

An upload is a `Media` row in UPLOADING whose `received` bytes sit in the staging area. Each
chunk must start at `received` (else CONFLICT), may not pass the declared size, and is appended
only once complete and verified. The type is detected from the first bytes as soon as they are
in; a type the kind does not accept fails the upload and drops its bytes. The last chunk makes
it UPLOADED; finishing hashes it and stores it under `<owner>/<sha256>` (once per owner and
digest). A video then goes PROCESSING (FFmpeg, `services/processing.py`); images and audio are
READY as they are stored and type-checked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.db import Database
from shared.errors import (
    BadUserInputError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    TributaryError,
)
from shared.events import add_event
from shared.redis import KeyValue
from subgraphs.content.models import Media, Rendition, StoredObject, utcnow
from subgraphs.content.services.kinds import (
    HEADER_BYTES,
    KIND_TYPES,
    MediaKind,
    MediaStatus,
    detect_type,
)
from subgraphs.content.services.media import (
    MEDIA_READY,
    is_media_id,
    media_ready_event,
    quota_used,
)
from subgraphs.content.services.processing import hls_prefix
from subgraphs.content.services.progress import ProgressEvent, publish
from subgraphs.content.services.staging import Staging
from subgraphs.content.services.storage import ObjectStore

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "Checksum",
    "ChecksumMismatchError",
    "GoneError",
    "Limits",
    "TooLargeError",
    "UnsupportedTypeError",
    "Uploads",
    "parse_checksum",
]

log = logging.getLogger("tributary.content")

CHECKSUM_ALGORITHMS: dict[str, Callable[[], Any]] = {"sha1": hashlib.sha1,
                                                      "sha256": hashlib.sha256}
MAX_FILENAME = 255
_MEDIA_DELETED = "content.media_deleted"
_PROCESSING_GRACE = timedelta(minutes=30)
_QUOTA_LOCK = 716_104  # advisory lock class of the per-owner quota check


class GoneError(TributaryError):
    code = "GONE"


class TooLargeError(TributaryError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedTypeError(TributaryError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class ChecksumMismatchError(TributaryError):
    code = "CHECKSUM_MISMATCH"


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    max_upload_bytes: int
    max_image_bytes: int
    user_quota_bytes: int
    expiry_seconds: int
    max_chunk_bytes: int

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(max_upload_bytes=settings.max_upload_bytes,
                   max_image_bytes=settings.max_image_bytes,
                   user_quota_bytes=settings.user_quota_bytes,
                   expiry_seconds=settings.upload_expiry_seconds,
                   max_chunk_bytes=settings.max_chunk_bytes)

    def max_size(self, kind: MediaKind) -> int:
        if kind is MediaKind.IMAGE:
            return min(self.max_image_bytes, self.max_upload_bytes)
        return self.max_upload_bytes


@dataclass(frozen=True, slots=True)
class Checksum:
    algorithm: str
    digest: bytes


def parse_checksum(header: str) -> Checksum:
    """`Upload-Checksum: <algorithm> <base64 digest>` (tus checksum extension)."""
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadUserInputError(f"Unsupported checksum algorithm {algorithm!r}",
                                extensions={"reason": "CHECKSUM_ALGORITHM",
                                            "supported": sorted(CHECKSUM_ALGORITHMS)})
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadUserInputError("Upload-Checksum is not base64",
                                extensions={"reason": "CHECKSUM_FORMAT"}) from None
    return Checksum(algorithm, digest)


def _check_filename(filename: str) -> str:
    name = filename.strip()
    if not name or len(name) > MAX_FILENAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadUserInputError(f"filename must be 1 to {MAX_FILENAME} printable characters",
                                extensions={"field": "filename", "reason": "INVALID_FILENAME"})
    return name


async def _not_wired(media_id: str) -> None:
    raise RuntimeError("no processing worker is wired into these uploads")


@dataclass
class Uploads:
    database: Database
    staging: Staging
    store: ObjectStore
    limits: Limits
    clock: Callable[[], datetime] = utcnow
    # Set by the app: hands a stored video to the processing workers.
    enqueue_processing: Callable[[str], Awaitable[None]] = _not_wired
    kv: KeyValue | None = None  # where `mediaProcessed` subscribers hear of processing
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary)

    def _lock(self, media_id: str) -> asyncio.Lock:
        lock = self._locks.get(media_id)
        if lock is None:
            lock = self._locks[media_id] = asyncio.Lock()
        return lock

    def _expiry(self) -> datetime:
        return self.clock() + timedelta(seconds=self.limits.expiry_seconds)

    async def create(self, *, owner_id: str, kind: MediaKind, filename: str, size: int,
                     metadata: dict[str, str] | None = None) -> Media:
        """A new upload of `size` bytes, within the size limits and the owner's quota."""
        filename = _check_filename(filename)
        if size < 1:
            raise BadUserInputError("size must be at least 1 byte",
                                    extensions={"field": "size", "reason": "INVALID_SIZE"})
        limit = self.limits.max_size(kind)
        if size > limit:
            raise TooLargeError(f"A {kind.value.lower()} may be at most {limit} bytes",
                                extensions={"field": "size", "reason": "TOO_LARGE",
                                            "limit": limit})
        media = Media(id=uuid.uuid4().hex, owner_id=owner_id, kind=kind.value,
                      status=MediaStatus.UPLOADING.value, filename=filename, size=size,
                      upload_metadata=dict(metadata or {}), expires_at=self._expiry())
        # One owner's creations one at a time (a lock here, and across replicas on
        # PostgreSQL), so two at once cannot both fit in the room left for one.
        async with self._lock(f"owner:{owner_id}"), self.database.session() as session, \
                session.begin():
            if session.bind.dialect.name == "postgresql":
                await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k, hashtext(:o))"),
                                      {"k": _QUOTA_LOCK, "o": owner_id})
            used = await quota_used(session=session, owner_id=owner_id)
            if used + size > self.limits.user_quota_bytes:
                raise TooLargeError(
                    f"This upload would pass your quota of {self.limits.user_quota_bytes} bytes "
                    f"({used} in use)", extensions={"field": "size", "reason": "QUOTA_EXCEEDED",
                                                    "limit": self.limits.user_quota_bytes,
                                                    "used": used})
            session.add(media)
        return media

    async def get_owned(self, *, media_id: str, user_id: str) -> Media:
        """The caller's own media `media_id` (NOT_FOUND, FORBIDDEN otherwise)."""
        async with self.database.session() as session:
            media = (await session.get(Media, media_id)) if is_media_id(media_id) else None
        if media is None:
            raise NotFoundError(f"No upload with id {media_id!r}",
                                extensions={"reason": "UNKNOWN_UPLOAD"})
        if media.owner_id != user_id:
            raise ForbiddenError("This upload belongs to another user",
                                 extensions={"reason": "NOT_OWNER"})
        return media

    async def open_upload(self, *, media_id: str, user_id: str) -> Media:
        """The caller's own unfinished or finished upload; GONE once expired or failed."""
        media = await self.get_owned(media_id=media_id, user_id=user_id)
        if media.status == MediaStatus.FAILED.value:
            raise GoneError(f"This upload failed: {media.failure_reason}",
                            extensions={"reason": "UPLOAD_FAILED"})
        if self._expired(media):
            raise GoneError("This upload expired", extensions={"reason": "UPLOAD_EXPIRED"})
        return media

    def _expired(self, media: Media) -> bool:
        expires = media.expires_at
        if media.status != MediaStatus.UPLOADING.value or expires is None:
            return False
        if expires.tzinfo is None:  # SQLite hands back naive UTC
            expires = expires.replace(tzinfo=self.clock().tzinfo)
        return expires <= self.clock()

    async def receive(self, *, media_id: str, user_id: str, offset: int,
                      body: AsyncIterator[bytes], checksum: Checksum | None = None) -> Media:
        """Append one chunk at `offset`; the last one finishes the upload."""
        async with self._lock(media_id):
            media = await self.open_upload(media_id=media_id, user_id=user_id)
            if media.status != MediaStatus.UPLOADING.value:
                raise ConflictError("This upload is already complete",
                                    extensions={"reason": "UPLOAD_COMPLETE",
                                                "offset": media.received})
            if offset != media.received:
                raise ConflictError(f"Upload-Offset {offset} does not match the upload's "
                                    f"offset {media.received}",
                                    extensions={"reason": "OFFSET_MISMATCH",
                                                "offset": media.received})
            await self.staging.prepare()
            chunk = self.staging.chunk_path()
            try:
                written = await self._write_chunk(chunk, body, media=media, checksum=checksum)
                if written:
                    await self.staging.append(media_id, chunk, offset=offset)
            finally:
                await self.staging.remove(chunk)
            if written:
                media = await self._advance(media, offset=offset, written=written)
        if media.status == MediaStatus.UPLOADED.value:
            media = await self.finish(media_id=media_id)
        return media

    async def _write_chunk(self, chunk: Any, body: AsyncIterator[bytes], *, media: Media,
                           checksum: Checksum | None) -> int:
        remaining = media.size - media.received
        limit = min(remaining, self.limits.max_chunk_bytes)
        digest = CHECKSUM_ALGORITHMS[checksum.algorithm]() if checksum else None
        written = 0
        with chunk.open("wb") as out:
            async for data in body:
                written += len(data)
                if written > limit:
                    reason = "PAST_UPLOAD_LENGTH" if written > remaining else "CHUNK_TOO_LARGE"
                    raise TooLargeError(
                        f"This chunk passes the {'declared Upload-Length' if written > remaining else 'chunk limit'}",
                        extensions={"reason": reason, "limit": limit})
                if digest is not None:
                    digest.update(data)
                await asyncio.to_thread(out.write, data)
        if checksum is not None and digest is not None and digest.digest() != checksum.digest:
            raise ChecksumMismatchError(f"The chunk's {checksum.algorithm} does not match "
                                        "Upload-Checksum", extensions={"reason": "CHECKSUM"})
        return written

    async def _advance(self, media: Media, *, offset: int, written: int) -> Media:
        received = offset + written
        complete = received == media.size
        values: dict[str, Any] = {"received": received, "updated_at": self.clock(),
                                  "expires_at": self._expiry()}
        if media.content_type is None and received >= min(HEADER_BYTES, media.size):
            detected = detect_type(await self.staging.header(media.id, HEADER_BYTES))
            accepted = KIND_TYPES[MediaKind(media.kind)]
            if detected not in accepted:
                await self.fail(media.id, f"The bytes are {detected or 'of no known type'}, "
                                f"not one of the {media.kind.lower()} types accepted")
                raise UnsupportedTypeError(
                    f"The file's bytes are {detected or 'of no known type'}; a "
                    f"{media.kind.lower()} must be one of {', '.join(sorted(accepted))}",
                    extensions={"reason": "TYPE_NOT_ACCEPTED", "detected": detected})
            values["content_type"] = detected
        if complete:
            values["status"] = MediaStatus.UPLOADED.value
        async with self.database.session() as session, session.begin():
            result = await session.execute(
                sa.update(Media).where(Media.id == media.id, Media.received == offset,
                                       Media.status == MediaStatus.UPLOADING.value)
                .values(**values))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError("The upload moved on meanwhile",
                                    extensions={"reason": "OFFSET_MISMATCH"})
            fresh = await session.get(Media, media.id, populate_existing=True)
        assert fresh is not None
        return fresh

    async def fail(self, media_id: str, reason: str) -> None:
        """FAILED with `reason`, and no bytes left behind."""
        await self.staging.discard(media_id)
        async with self.database.session() as session, session.begin():
            await session.execute(sa.update(Media).where(Media.id == media_id).values(
                status=MediaStatus.FAILED.value, failure_reason=reason[:500], expires_at=None,
                updated_at=self.clock()))

    async def finish(self, *, media_id: str) -> Media:
        """Store a complete upload content-addressed (once per owner) and make it READY."""
        async with self.database.session() as session:
            media = await session.get(Media, media_id)
        if media is None or media.status != MediaStatus.UPLOADED.value:
            # Finished (or removed) by a concurrent call: the sweep and the last chunk may meet.
            return await self._reload(media_id)
        staged = self.staging.path(media_id)
        if await self.staging.size(media_id) != media.size:
            await self.fail(media_id, "The stored bytes do not add up to the declared size")
            return await self._reload(media_id)
        digest = await self.staging.sha256(media_id)
        content_type = media.content_type or "application/octet-stream"
        key = f"{media.owner_id}/{digest}"
        async with self.database.session() as session:
            existing = await session.get(StoredObject, (media.owner_id, digest))
        if existing is None:
            await self.store.put_file(key, staged, content_type=content_type)
            try:
                async with self.database.session() as session, session.begin():
                    session.add(StoredObject(owner_id=media.owner_id, sha256=digest,
                                             storage_key=key, size=media.size,
                                             content_type=content_type))
            except IntegrityError:
                pass  # the same bytes finished at the same moment: one object for both
        else:
            key = existing.storage_key
        # Videos go on to FFmpeg; images and audio are READY once stored and type-checked.
        processed = media.kind == MediaKind.VIDEO.value
        status = MediaStatus.PROCESSING if processed else MediaStatus.READY
        async with self.database.session() as session, session.begin():
            await session.execute(sa.update(Media).where(Media.id == media_id).values(
                status=status.value, sha256=digest, storage_key=key,
                expires_at=None, updated_at=self.clock()))
            if status is MediaStatus.READY:
                ready = await session.get(Media, media_id, populate_existing=True)
                assert ready is not None
                await add_event(session, topic=MEDIA_READY, key=media_id,
                                payload=media_ready_event(ready))
        await self.staging.discard(media_id)
        if processed:
            if self.kv is not None:
                await publish(self.kv, ProgressEvent(media_id=media_id,
                                                     status=MediaStatus.PROCESSING.value,
                                                     progress=0))
            await self.enqueue_processing(media_id)
        return await self._reload(media_id)

    async def _reload(self, media_id: str) -> Media:
        async with self.database.session() as session:
            media = await session.get(Media, media_id)
        if media is None:
            raise NotFoundError(f"No upload with id {media_id!r}",
                                extensions={"reason": "UNKNOWN_UPLOAD"})
        return media

    async def terminate(self, *, media_id: str, user_id: str) -> None:
        """Delete the caller's upload or media, and its bytes unless other media share them."""
        async with self._lock(media_id):
            media = await self.get_owned(media_id=media_id, user_id=user_id)
            await self._delete(media)

    async def _delete(self, media: Media) -> None:
        await self.staging.discard(media.id)
        orphan: str | None = None
        async with self.database.session() as session, session.begin():
            # Explicitly: SQLite does not enforce the foreign key's cascade.
            await session.execute(sa.delete(Rendition).where(Rendition.media_id == media.id))
            await session.execute(sa.delete(Media).where(Media.id == media.id))
            if media.sha256 is not None:
                others = await session.scalar(sa.select(sa.func.count()).select_from(Media).where(
                    Media.owner_id == media.owner_id, Media.sha256 == media.sha256))
                if not others:
                    await session.execute(sa.delete(StoredObject).where(
                        StoredObject.owner_id == media.owner_id,
                        StoredObject.sha256 == media.sha256))
                    orphan = media.storage_key
            if media.status == MediaStatus.READY.value:
                await add_event(session, topic=_MEDIA_DELETED, key=media.id,
                                payload={"mediaId": media.id, "ownerId": media.owner_id})
        if orphan is not None:
            await self.store.delete_prefix(hls_prefix(orphan))
            await self.store.delete(orphan)

    async def sweep(self) -> int:
        """Remove expired unfinished uploads and their bytes; finish complete ones left over."""
        now = self.clock()
        async with self.database.session() as session:
            expired = list((await session.execute(sa.select(Media).where(
                Media.status == MediaStatus.UPLOADING.value,
                Media.expires_at <= now))).scalars())  # type: ignore[operator]
            stuck = list((await session.execute(sa.select(Media.id).where(
                Media.status == MediaStatus.UPLOADED.value))).scalars())
        for media in expired:
            async with self._lock(media.id):
                await self._delete(media)
        for media_id in stuck:
            try:
                await self.finish(media_id=media_id)
            except Exception:
                log.exception("finishing upload %s failed", media_id)
        # Processing whose worker died (its job's retries gone with it) is sent again.
        async with self.database.session() as session:
            abandoned = list((await session.execute(sa.select(Media.id).where(
                Media.status == MediaStatus.PROCESSING.value,
                Media.updated_at <= now - _PROCESSING_GRACE))).scalars())
        for media_id in abandoned:
            await self.enqueue_processing(media_id)
        return len(expired)
