"""The object store interface on local files and on a real S3-compatible server (moto)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiobotocore.session import get_session

from subgraphs.content.services.storage import LocalStore, ObjectStore, S3Store

MIB = 1024 * 1024
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "test",
               "aws_secret_access_key": "test"}


async def _bucket(endpoint: str) -> str:
    name = f"media-{uuid.uuid4().hex[:12]}"
    async with get_session().create_client("s3", endpoint_url=endpoint, **CREDENTIALS) as s3:
        await s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "objects")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    s3 = S3Store(bucket=await _bucket(endpoint), endpoint_url=endpoint, region="us-east-1",
                 access_key_id="test", secret_access_key="test",
                 multipart_threshold=6 * MIB, part_size=5 * MIB)
    yield s3
    await s3.close()


async def _read(store: ObjectStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.read(key)])


async def test_put_read_size_delete(store: ObjectStore, tmp_path: Path):
    source = tmp_path / "small"
    source.write_bytes(b"\x89PNG tiny object")
    await store.put_file("owner1/abc", source, content_type="image/png")
    assert await _read(store, "owner1/abc") == b"\x89PNG tiny object"
    assert await store.size("owner1/abc") == len(b"\x89PNG tiny object")
    await store.delete("owner1/abc")
    assert await store.size("owner1/abc") is None
    with pytest.raises(FileNotFoundError):
        await _read(store, "owner1/abc")
    await store.delete("owner1/abc")  # deleting what is gone is no error


async def test_a_large_object_round_trips_intact(store: ObjectStore, tmp_path: Path):
    # 13 MiB: three parts on S3 (5 + 5 + 3), the last one short.
    data = os.urandom(13 * MIB)
    source = tmp_path / "large"
    source.write_bytes(data)
    await store.put_file("owner1/large", source, content_type="video/mp4")
    assert await store.size("owner1/large") == len(data)
    assert hashlib.sha256(await _read(store, "owner1/large")).digest() == hashlib.sha256(data).digest()


async def test_s3_large_objects_go_as_multipart_and_small_ones_do_not(s3_endpoint, tmp_path):
    bucket = await _bucket(s3_endpoint)
    store = S3Store(bucket=bucket, endpoint_url=s3_endpoint, region="us-east-1",
                    access_key_id="test", secret_access_key="test",
                    multipart_threshold=6 * MIB, part_size=5 * MIB)
    (tmp_path / "big").write_bytes(os.urandom(11 * MIB))
    (tmp_path / "small").write_bytes(b"x" * 1000)
    try:
        await store.put_file("o/big", tmp_path / "big", content_type="video/mp4")
        await store.put_file("o/small", tmp_path / "small", content_type="image/png")
    finally:
        await store.close()
    async with get_session().create_client("s3", endpoint_url=s3_endpoint, **CREDENTIALS) as s3:
        big = await s3.head_object(Bucket=bucket, Key="o/big")
        small = await s3.head_object(Bucket=bucket, Key="o/small")
        pending = await s3.list_multipart_uploads(Bucket=bucket)
    # A multipart object's ETag is "<md5 of the part md5s>-<number of parts>".
    assert big["ETag"].strip('"').endswith("-3")
    assert "-" not in small["ETag"] and small["ContentType"] == "image/png"
    assert pending.get("Uploads", []) == []


async def test_local_keys_cannot_leave_the_store(tmp_path: Path):
    store = LocalStore(tmp_path / "objects")
    (tmp_path / "f").write_bytes(b"x")
    for key in ("../escape", "a/../../b", "", "/abs"):
        with pytest.raises(AssertionError):
            await store.put_file(key, tmp_path / "f", content_type="image/png")
    assert not (tmp_path / "escape").exists()
