"""The object store behind one interface: local files (embedded default) or S3-compatible.

Finished objects are written once from a local file (the upload's staging file) and read
back as a stream. Keys are content addresses chosen by the caller (`objects/<owner>/<sha256>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from aiobotocore.session import get_session
from botocore.exceptions import ClientError

__all__ = ["LocalStore", "ObjectStore", "S3Store", "store_from_settings"]

_READ_CHUNK = 1024 * 1024


class ObjectStore(Protocol):
    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        """Store the bytes of local file `path` under `key` (replacing any object there)."""

    def read(self, key: str, *, start: int = 0,
             length: int | None = None) -> AsyncIterator[bytes]:
        """The object's bytes from `start` (`length` of them, or to the end) in chunks;
        FileNotFoundError when there is none."""

    async def size(self, key: str) -> int | None:
        """The object's size, or None when there is none."""

    async def delete(self, key: str) -> None:
        """Remove the object (nothing happens when there is none)."""

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every object whose key starts with `prefix` + "/"."""

    async def close(self) -> None: ...


def _checked_key(key: str) -> str:
    parts = key.split("/")
    assert key and all(p not in ("", ".", "..") for p in parts), f"bad object key {key!r}"
    return key


class LocalStore:
    """Objects as files under `root` (written to a temporary name, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked_key(key)

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        target = self._path(key)

        def copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(path, partial)
            os.replace(partial, target)

        await asyncio.to_thread(copy)

    async def read(self, key: str, *, start: int = 0,
                   length: int | None = None) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self._path(key), "rb")
        try:
            if start:
                await asyncio.to_thread(handle.seek, start)
            left = length
            while left is None or left > 0:
                want = _READ_CHUNK if left is None else min(_READ_CHUNK, left)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def delete_prefix(self, prefix: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._path(prefix), True)

    async def close(self) -> None:
        return None


class S3Store:
    """Objects in one bucket of an S3-compatible server, multipart above `multipart_threshold`."""

    def __init__(self, *, bucket: str, endpoint_url: str | None, region: str,
                 access_key_id: str | None, secret_access_key: str | None,
                 multipart_threshold: int = 16 * 1024 * 1024,
                 part_size: int = 8 * 1024 * 1024) -> None:
        assert part_size >= 5 * 1024 * 1024, "S3 parts (but the last) are at least 5 MiB"
        self.bucket = bucket
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self._config = {"endpoint_url": endpoint_url, "region_name": region,
                        "aws_access_key_id": access_key_id,
                        "aws_secret_access_key": secret_access_key}
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                stack = contextlib.AsyncExitStack()
                self._client = await stack.enter_async_context(
                    get_session().create_client("s3", **self._config))
                self._stack = stack
        return self._client

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        s3 = await self._s3()
        key = _checked_key(key)
        size = (await asyncio.to_thread(path.stat)).st_size
        if size < self.multipart_threshold:
            body = await asyncio.to_thread(path.read_bytes)
            await s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
            return
        await self._put_multipart(s3, key, path, content_type=content_type)

    async def _put_multipart(self, s3: Any, key: str, path: Path, *, content_type: str) -> None:
        started = await s3.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                   ContentType=content_type)
        upload_id = started["UploadId"]
        parts = []
        try:
            with path.open("rb") as handle:
                number = 1
                while chunk := await asyncio.to_thread(handle.read, self.part_size):
                    sent = await s3.upload_part(Bucket=self.bucket, Key=key, PartNumber=number,
                                                UploadId=upload_id, Body=chunk)
                    parts.append({"PartNumber": number, "ETag": sent["ETag"]})
                    number += 1
            await s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                               MultipartUpload={"Parts": parts})
        except BaseException:
            # No half-written object and no parts left billing in the bucket.
            with contextlib.suppress(Exception):
                await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    async def read(self, key: str, *, start: int = 0,
                   length: int | None = None) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        extra = {}
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            extra["Range"] = f"bytes={start}-{end}"
        try:
            answer = await s3.get_object(Bucket=self.bucket, Key=_checked_key(key), **extra)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from None
            raise
        async with answer["Body"] as body:
            while chunk := await body.read(_READ_CHUNK):
                yield chunk

    async def size(self, key: str) -> int | None:
        s3 = await self._s3()
        try:
            head = await s3.head_object(Bucket=self.bucket, Key=_checked_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.bucket, Key=_checked_key(key))

    async def delete_prefix(self, prefix: str) -> None:
        s3 = await self._s3()
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket,
                                             Prefix=_checked_key(prefix) + "/"):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                await s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack, self._client = None, None


def store_from_settings(settings: Any) -> ObjectStore:
    """The store the content settings describe."""
    if settings.storage == "s3":
        return S3Store(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                       region=settings.s3_region, access_key_id=settings.s3_access_key_id,
                       secret_access_key=settings.s3_secret_access_key,
                       multipart_threshold=settings.s3_multipart_threshold,
                       part_size=settings.s3_part_size)
    return LocalStore(Path(settings.storage_root) / "objects")
