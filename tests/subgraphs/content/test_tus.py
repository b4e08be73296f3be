"""tus 1.0 on the content service, driven by a real tus client (tuspy) and by hand as a new
user would: chunks, interruption and resume, checksums, expiration and every refusal."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from subgraphs.content.models import Media, StoredObject, utcnow
from tests.subgraphs.content._app import TUS, Content, serve_content
from tests.subgraphs.content._files import png

MEDIA = """query($id: ID!) { media(id: $id) {
  id kind status size contentType sha256 uploadedBytes filename failureReason owner { id } } }"""


class Sha256Uploader(Uploader):
    """tuspy sends sha1 checksums by default; the server accepts sha256 as well."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture
async def content(database, tmp_path, issuer):
    async with serve_content(database, tmp_path, issuer, max_image_bytes=1_000_000,
                             user_quota_bytes=3_000_000) as served:
        yield served


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def _events(content: Content, topic: str) -> list[dict]:
    from sqlalchemy import select

    from shared.events import OutboxEvent

    async with content.runtime.uploads.database.session() as session:
        rows = (await session.execute(select(OutboxEvent).where(OutboxEvent.topic == topic)
                                      .order_by(OutboxEvent.created_at))).scalars()
        return [row.payload for row in rows]


async def _stored(content: Content, media_id: str) -> bytes:
    async with content.runtime.uploads.database.session() as session:
        row = await session.get(Media, media_id)
    assert row is not None and row.storage_key is not None
    return b"".join([c async for c in content.runtime.store.read(row.storage_key)])


async def test_a_tus_client_uploads_in_chunks_stops_and_resumes_to_ready(content, tmp_path):
    data = png()
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    client = TusClient(content.uploads_url, headers={
        "Authorization": f"Bearer {content.token('alice')}"})
    first = client.uploader(str(path), chunk_size=40_000, upload_checksum=True,
                            metadata={"filename": "photo.png", "kind": "IMAGE"})
    # Interrupted after a few chunks: the server keeps what it got.
    await asyncio.to_thread(first.upload, stop_at=100_000)
    assert first.url is not None
    media_id = first.url.rsplit("/", 1)[1]
    partial = await content.graphql(MEDIA, {"id": media_id}, user="alice")
    assert partial["data"]["media"]["status"] == "UPLOADING"
    assert partial["data"]["media"]["uploadedBytes"] == 100_000
    # A new client resumes from the offset the server reports (HEAD), with sha256 checksums.
    # (In a thread: tuspy asks the offset with a blocking HEAD as it is built.)
    resumed = await asyncio.to_thread(Sha256Uploader, str(path), url=first.url, client=client,
                                      chunk_size=40_000, upload_checksum=True)
    assert resumed.offset == 100_000
    await asyncio.to_thread(resumed.upload)
    done = (await content.graphql(MEDIA, {"id": media_id}, user="alice"))["data"]["media"]
    assert done == {"id": media_id, "kind": "IMAGE", "status": "READY", "size": len(data),
                    "contentType": "image/png", "sha256": hashlib.sha256(data).hexdigest(),
                    "uploadedBytes": len(data), "filename": "photo.png", "failureReason": None,
                    "owner": {"id": "alice"}}
    assert await _stored(content, media_id) == data
    assert content.staged() == []
    assert await _events(content, "content.media_ready") == [{
        "mediaId": media_id, "ownerId": "alice", "kind": "IMAGE", "contentType": "image/png",
        "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}]
    # Others see READY media, without the owner's details.
    seen = (await content.graphql(MEDIA, {"id": media_id}, user="bob"))["data"]["media"]
    assert seen["status"] == "READY" and seen["filename"] is None and seen["uploadedBytes"] is None


async def test_create_upload_in_graphql_then_any_tus_client_sends_the_bytes(content, tmp_path,
                                                                             videos):
    data = videos["landscape"]
    created = await content.graphql(
        'mutation($size: Int!) { createUpload(kind: VIDEO, filename: "clip.mp4", size: $size) '
        '{ uploadUrl expiresAt media { id status size kind owner { id } } } }',
        {"size": len(data)}, user="alice")
    payload = created["data"]["createUpload"]
    media_id = payload["media"]["id"]
    assert payload["media"] == {"id": media_id, "status": "UPLOADING", "size": len(data),
                                "kind": "VIDEO", "owner": {"id": "alice"}}
    assert payload["uploadUrl"] == f"{content.uploads_url}/{media_id}"
    (tmp_path / "clip.mp4").write_bytes(data)
    client = TusClient(content.uploads_url,
                       headers={"Authorization": f"Bearer {content.token('alice')}"})
    uploader = await asyncio.to_thread(client.uploader, str(tmp_path / "clip.mp4"),
                                       url=payload["uploadUrl"], chunk_size=30_000)
    await asyncio.to_thread(uploader.upload)
    await content.processed()
    mine = await content.graphql('{ _entities(representations: [{__typename: "User", id: '
                                 '"alice"}]) { ... on User { media { id status contentType } } } }',
                                 user="alice")
    assert mine["data"]["_entities"][0]["media"] == [
        {"id": media_id, "status": "READY", "contentType": "video/mp4"}]
    assert await _stored(content, media_id) == data


async def test_options_announce_the_protocol_and_extensions(content):
    async with httpx.AsyncClient() as http:
        response = await http.options(content.uploads_url)
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "checksum", "expiration"}
    assert response.headers["tus-checksum-algorithm"] == "sha1,sha256"
    assert int(response.headers["tus-max-size"]) == content.settings.max_upload_bytes


async def _create(http: httpx.AsyncClient, content: Content, *, user: str = "alice",
                  size: int, kind: str = "IMAGE", filename: str = "a.png") -> str:
    response = await http.post(content.uploads_url, headers={
        **content.auth(user), "Upload-Length": str(size),
        "Upload-Metadata": f"filename {_b64(filename)},kind {_b64(kind)}"})
    assert response.status_code == 201, response.text
    assert response.headers["upload-offset"] == "0"
    assert "upload-expires" in response.headers
    return response.headers["location"]


def _patch_headers(content: Content, offset: int, *, user: str = "alice") -> dict[str, str]:
    return {**content.auth(user), "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"}


async def _offset(http: httpx.AsyncClient, content: Content, url: str) -> int:
    response = await http.head(url, headers=content.auth("alice"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    return int(response.headers["upload-offset"])


async def test_refusals_are_clear_and_write_nothing(content):
    data = png()
    async with httpx.AsyncClient(timeout=10) as http:
        url = await _create(http, content, size=len(data))
        first = await http.patch(url, content=data[:10_000], headers=_patch_headers(content, 0))
        assert first.status_code == 204 and first.headers["upload-offset"] == "10000"

        async def refused(status: int, code: str, response: httpx.Response) -> None:
            assert response.status_code == status, response.text
            assert response.headers["tus-resumable"] == "1.0.0"
            if response.content:
                assert response.json()["error"]["code"] == code
            assert await _offset(http, content, url) == 10_000
            assert len((content.runtime.uploads.staging.path(url.rsplit("/", 1)[1])).read_bytes()) == 10_000

        # Wrong offset: 409, and the server's offset is in the error.
        wrong = await http.patch(url, content=data[:100], headers=_patch_headers(content, 0))
        await refused(409, "CONFLICT", wrong)
        assert wrong.json()["error"]["offset"] == 10_000
        # A checksum that does not match the chunk: 460.
        bad_sum = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        await refused(460, "CHECKSUM_MISMATCH", await http.patch(
            url, content=data[10_000:20_000],
            headers={**_patch_headers(content, 10_000), "Upload-Checksum": f"sha256 {bad_sum}"}))
        await refused(400, "BAD_USER_INPUT", await http.patch(
            url, content=data[10_000:20_000],
            headers={**_patch_headers(content, 10_000), "Upload-Checksum": "md5 AAAA"}))
        # Bytes past the declared Upload-Length: 413.
        await refused(413, "PAYLOAD_TOO_LARGE", await http.patch(
            url, content=data[10_000:] + b"extra", headers=_patch_headers(content, 10_000)))
        # Another user's upload: 403, for PATCH, HEAD and DELETE alike.
        await refused(403, "FORBIDDEN", await http.patch(
            url, content=data[10_000:20_000], headers=_patch_headers(content, 10_000, user="bob")))
        await refused(403, "FORBIDDEN", await http.head(url, headers=content.auth("bob")))
        await refused(403, "FORBIDDEN", await http.delete(url, headers=content.auth("bob")))
        # No credential, a bad one, no Tus-Resumable, a body that is not offset+octet-stream.
        await refused(401, "UNAUTHENTICATED", await http.patch(
            url, content=b"x", headers={**TUS, "Upload-Offset": "10000",
                                        "Content-Type": "application/offset+octet-stream"}))
        await refused(401, "UNAUTHENTICATED", await http.patch(
            url, content=b"x", headers={**_patch_headers(content, 10_000),
                                        "Authorization": "Bearer not-a-token"}))
        no_version = {k: v for k, v in _patch_headers(content, 10_000).items()
                      if k != "Tus-Resumable"}
        await refused(412, "PRECONDITION_FAILED", await http.patch(url, content=b"x",
                                                                   headers=no_version))
        await refused(415, "UNSUPPORTED_MEDIA_TYPE", await http.patch(
            url, content=b"x", headers={**_patch_headers(content, 10_000),
                                        "Content-Type": "application/json"}))
        # An unknown upload: 404.
        unknown = await http.head(f"{content.uploads_url}/{'0' * 32}", headers=content.auth("alice"))
        assert unknown.status_code == 404  # (a HEAD answer has no body)
        # The right chunk with the right checksum still goes through after all that.
        good_sum = base64.b64encode(hashlib.sha1(data[10_000:]).digest()).decode()
        done = await http.patch(url, content=data[10_000:], headers={
            **_patch_headers(content, 10_000), "Upload-Checksum": f"sha1 {good_sum}"})
        assert done.status_code == 204 and done.headers["upload-offset"] == str(len(data))
        assert "upload-expires" not in done.headers  # finished uploads do not expire
    assert await _stored(content, url.rsplit("/", 1)[1]) == data
    assert content.staged() == []


async def test_size_limits_and_the_quota(content):
    async with httpx.AsyncClient(timeout=10) as http:
        headers = {**content.auth("alice"), "Upload-Metadata": f"kind {_b64('VIDEO')}"}
        too_big = await http.post(content.uploads_url, headers={
            **headers, "Upload-Length": str(content.settings.max_upload_bytes + 1)})
        assert too_big.status_code == 413 and too_big.json()["error"]["reason"] == "TOO_LARGE"
        image = await http.post(content.uploads_url, headers={
            **content.auth("alice"), "Upload-Length": "1000001",
            "Upload-Metadata": f"filetype {_b64('image/png')}"})
        assert image.status_code == 413 and image.json()["error"]["limit"] == 1_000_000
        await _create(http, content, size=2_000_000, kind="VIDEO", filename="v.mp4")
        over = await http.post(content.uploads_url, headers={**headers, "Upload-Length": "1000001"})
        assert over.status_code == 413 and over.json()["error"]["reason"] == "QUOTA_EXCEEDED"
        no_kind = await http.post(content.uploads_url, headers={
            **content.auth("alice"), "Upload-Length": "10"})
        assert no_kind.status_code == 400 and no_kind.json()["error"]["reason"] == "INVALID_KIND"
    # GraphQL refuses the same with coded errors.
    over_quota = await content.graphql('mutation { createUpload(kind: VIDEO, filename: "v.mp4", '
                                       'size: 1000001) { uploadUrl } }', user="alice")
    assert over_quota["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert over_quota["errors"][0]["extensions"]["reason"] == "QUOTA_EXCEEDED"
    for query in ('mutation { createUpload(kind: IMAGE, filename: "", size: 10) { uploadUrl } }',
                  'mutation { createUpload(kind: IMAGE, filename: "a.png", size: 0) { uploadUrl } }'):
        bad = await content.graphql(query, user="bob")
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
    anonymous = await content.graphql('mutation { createUpload(kind: IMAGE, filename: "a.png", '
                                      'size: 10) { uploadUrl } }')
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with content.runtime.uploads.database.session() as session:
        from sqlalchemy import func, select

        assert (await session.execute(select(func.count()).select_from(Media))).scalar_one() == 1


async def test_bytes_that_are_not_the_declared_kind_fail_the_upload_and_leave_nothing(content):
    fake = b"%PDF-1.7 this is not a picture " * 400
    async with httpx.AsyncClient(timeout=10) as http:
        url = await _create(http, content, size=len(fake), filename="cat.png")
        refused = await http.patch(url, content=fake, headers=_patch_headers(content, 0))
        assert refused.status_code == 415
        assert refused.json()["error"]["detected"] == "application/pdf"
        gone = await http.head(url, headers=content.auth("alice"))
        assert gone.status_code == 410
    media = (await content.graphql(MEDIA, {"id": url.rsplit("/", 1)[1]}, user="alice"))["data"]["media"]
    assert media["status"] == "FAILED" and "application/pdf" in media["failureReason"]
    assert content.staged() == []


async def test_creation_with_upload_and_termination(content):
    data = png(64, 64)
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(content.uploads_url, content=data[:5000], headers={
            **content.auth("alice"), "Upload-Length": str(len(data)),
            "Upload-Metadata": f"kind {_b64('IMAGE')}",
            "Content-Type": "application/offset+octet-stream"})
        assert created.status_code == 201 and created.headers["upload-offset"] == "5000"
        url = created.headers["location"]
        assert (await http.delete(url, headers=content.auth("alice"))).status_code == 204
        assert (await http.head(url, headers=content.auth("alice"))).status_code == 404
    assert content.staged() == []


async def test_same_bytes_are_stored_once_per_owner_and_go_with_their_last_media(content):
    data = png(128, 128)
    urls = []
    async with httpx.AsyncClient(timeout=10) as http:
        for user in ("alice", "alice", "bob"):
            url = await _create(http, content, user=user, size=len(data))
            response = await http.patch(url, content=data, headers=_patch_headers(content, 0, user=user))
            assert response.status_code == 204
            urls.append(url)
        async with content.runtime.uploads.database.session() as session:
            from sqlalchemy import select

            objects = list((await session.execute(select(StoredObject))).scalars())
        assert sorted(o.owner_id for o in objects) == ["alice", "bob"]
        key = next(o.storage_key for o in objects if o.owner_id == "alice")
        store = content.runtime.store
        # One of alice's two media goes: the bytes stay for the other.
        assert (await http.delete(urls[0], headers=content.auth("alice"))).status_code == 204
        assert await store.size(key) == len(data)
        assert (await http.delete(urls[1], headers=content.auth("alice"))).status_code == 204
        assert await store.size(key) is None
    assert await _events(content, "content.media_deleted") == [
        {"mediaId": u.rsplit("/", 1)[1], "ownerId": "alice"} for u in urls[:2]]
    assert await _stored(content, urls[2].rsplit("/", 1)[1]) == data


async def test_expired_uploads_are_refused_then_swept_with_their_bytes(content):
    data = png(64, 64)
    uploads = content.runtime.uploads
    async with httpx.AsyncClient(timeout=10) as http:
        url = await _create(http, content, size=len(data))
        await http.patch(url, content=data[:1000], headers=_patch_headers(content, 0))
        kept = await _create(http, content, size=len(data))
        media_id = url.rsplit("/", 1)[1]
        assert uploads.staging.path(media_id).exists()
        later = utcnow() + timedelta(seconds=content.settings.upload_expiry_seconds + 1)
        uploads.clock = lambda: later
        expired = await http.patch(url, content=data[1000:], headers=_patch_headers(content, 1000))
        assert expired.status_code == 410 and expired.json()["error"]["reason"] == "UPLOAD_EXPIRED"
        assert await uploads.sweep() == 2  # both are past their time now
        assert (await http.head(url, headers=content.auth("alice"))).status_code == 404
        assert (await http.head(kept, headers=content.auth("alice"))).status_code == 404
    assert content.staged() == []


async def test_tuspy_reports_a_refused_chunk(content, tmp_path: Path):
    """A tus client told 403 stops with the server's status (nothing is written for bob)."""
    data = png(64, 64)
    (tmp_path / "a.png").write_bytes(data)
    async with httpx.AsyncClient(timeout=10) as http:
        url = await _create(http, content, size=len(data))
    client = TusClient(content.uploads_url,
                       headers={"Authorization": f"Bearer {content.token('bob')}"})
    with pytest.raises(TusCommunicationError) as refused:
        await asyncio.to_thread(lambda: client.uploader(str(tmp_path / "a.png"), url=url).upload())
    assert refused.value.status_code == 403


async def test_two_patches_at_one_offset_one_wins_one_conflicts(content):
    data = png(128, 128)
    async with httpx.AsyncClient(timeout=10) as http:
        url = await _create(http, content, size=len(data))
        answers = await asyncio.gather(*[
            http.patch(url, content=data[:20_000], headers=_patch_headers(content, 0))
            for _ in range(2)])
        assert sorted(a.status_code for a in answers) == [204, 409]
        assert await _offset(http, content, url) == 20_000
        done = await http.patch(url, content=data[20_000:], headers=_patch_headers(content, 20_000))
        assert done.status_code == 204
    assert await _stored(content, url.rsplit("/", 1)[1]) == data


async def test_finished_uploads_land_in_s3_storage(database, tmp_path, issuer, s3_endpoint,
                                                   videos):
    from aiobotocore.session import get_session

    from subgraphs.content.services.storage import S3Store

    credentials = {"region_name": "us-east-1", "aws_access_key_id": "test",
                   "aws_secret_access_key": "test"}
    async with get_session().create_client("s3", endpoint_url=s3_endpoint, **credentials) as s3:
        await s3.create_bucket(Bucket="tus-media")
    store = S3Store(bucket="tus-media", endpoint_url=s3_endpoint, region="us-east-1",
                    access_key_id="test", secret_access_key="test")
    data = videos["landscape"]
    (tmp_path / "v.mp4").write_bytes(data)
    async with serve_content(database, tmp_path, issuer, store=store) as content:
        client = TusClient(content.uploads_url,
                           headers={"Authorization": f"Bearer {content.token('alice')}"})
        uploader = client.uploader(str(tmp_path / "v.mp4"), chunk_size=30_000,
                                   metadata={"kind": "VIDEO", "filename": "v.mp4"})
        await asyncio.to_thread(uploader.upload)
        await content.processed()
        media_id = uploader.url.rsplit("/", 1)[1]
        media = (await content.graphql(MEDIA, {"id": media_id}, user="alice"))["data"]["media"]
        assert media["status"] == "READY"
        async with get_session().create_client("s3", endpoint_url=s3_endpoint, **credentials) as s3:
            stored = await s3.get_object(Bucket="tus-media", Key=f"alice/{media['sha256']}")
            async with stored["Body"] as body:
                assert await body.read() == data
            assert stored["ContentType"] == "video/mp4"
            listed = await s3.list_objects_v2(Bucket="tus-media",
                                              Prefix=f"alice/{media['sha256']}.hls/")
        # The HLS rendition FFmpeg made went to the same bucket beside its source.
        keys = {item["Key"].rsplit("/", 1)[1] for item in listed["Contents"]}
        assert {"master.m3u8", "index.m3u8", "seg_000.ts"} <= keys
        assert content.staged() == []


async def test_a_connection_lost_mid_chunk_keeps_nothing_of_that_chunk(content):
    data = png(128, 128)
    async with httpx.AsyncClient(timeout=10) as http:
        url = await _create(http, content, size=len(data))
        assert (await http.patch(url, content=data[:8000],
                                 headers=_patch_headers(content, 0))).status_code == 204
        # A phone going into a tunnel: the head and half the body, then the connection drops.
        path = url.split(str(content.served.port), 1)[1]
        head = "".join(f"{k}: {v}\r\n" for k, v in {
            **_patch_headers(content, 8000), "Host": "127.0.0.1",
            "Content-Length": str(len(data) - 8000)}.items())
        _reader, writer = await asyncio.open_connection("127.0.0.1", content.served.port)
        writer.write(f"PATCH {path} HTTP/1.1\r\n{head}\r\n".encode() + data[8000:30_000])
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        # The server reports the offset before the broken chunk, whenever it noticed the drop.
        while (offset := await _offset(http, content, url)) != 8000 or any(
                name.startswith("chunk-") for name in content.staged()):
            assert offset == 8000
            await asyncio.sleep(0.01)
        resumed = await http.patch(url, content=data[8000:], headers=_patch_headers(content, 8000))
        assert resumed.status_code == 204
    assert await _stored(content, url.rsplit("/", 1)[1]) == data


async def test_uploads_created_at_once_never_pass_the_quota_together(content):
    # Each takes 40% of the 3 MB quota: however they interleave, exactly two fit.
    async with httpx.AsyncClient(timeout=10) as http:
        answers = await asyncio.gather(*[http.post(content.uploads_url, headers={
            **content.auth("carol"), "Upload-Length": "1200000",
            "Upload-Metadata": f"kind {_b64('VIDEO')}"}) for _ in range(5)])
    assert sorted(a.status_code for a in answers) == [201, 201, 413, 413, 413]


async def test_a_chunk_over_the_chunk_limit_is_refused_whole(database, tmp_path, issuer):
    data = png(128, 128)
    async with serve_content(database, tmp_path, issuer, max_chunk_bytes=20_000) as content, \
            httpx.AsyncClient(timeout=10) as http:
        url = await _create(http, content, size=len(data))
        refused = await http.patch(url, content=data[:30_000], headers=_patch_headers(content, 0))
        assert refused.status_code == 413
        assert refused.json()["error"]["reason"] == "CHUNK_TOO_LARGE"
        assert await _offset(http, content, url) == 0
        for start in range(0, len(data), 20_000):
            sent = await http.patch(url, content=data[start:start + 20_000],
                                    headers=_patch_headers(content, start))
            assert sent.status_code == 204
    assert await _stored(content, url.rsplit("/", 1)[1]) == data
