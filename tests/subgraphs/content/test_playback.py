"""Playback through signed, expiring URLs: HLS that FFmpeg plays over HTTP, range requests on
originals, content types and cache headers; expired and tampered URLs refused."""

from __future__ import annotations

import asyncio
import time

import httpx
import imageio_ffmpeg
import pytest
from tusclient.client import TusClient

from tests.subgraphs.content._app import Content, serve_content
from tests.subgraphs.content._files import png

PLAYBACK = "query($id: ID!) { media(id: $id) { status playbackUrl } }"


@pytest.fixture
async def content(database, tmp_path, issuer):
    async with serve_content(database, tmp_path, issuer) as served:
        yield served


async def _upload(content: Content, tmp_path, data: bytes, kind: str) -> str:
    path = tmp_path / f"upload-{kind}"
    path.write_bytes(data)
    client = TusClient(content.uploads_url,
                       headers={"Authorization": f"Bearer {content.token('alice')}"})
    uploader = client.uploader(str(path), chunk_size=64_000, metadata={"kind": kind})
    await asyncio.to_thread(uploader.upload)
    await content.processed()
    return uploader.url.rsplit("/", 1)[1]


async def _playback_url(content: Content, media_id: str, user: str = "bob") -> str:
    media = (await content.graphql(PLAYBACK, {"id": media_id}, user=user))["data"]["media"]
    assert media["status"] == "READY"
    return media["playbackUrl"]


async def test_ffmpeg_plays_the_hls_stream_over_http(content, tmp_path, videos):
    media_id = await _upload(content, tmp_path, videos["landscape"], "VIDEO")
    url = await _playback_url(content, media_id)
    assert url.startswith(f"{content.served.base}/media/{media_id}/") and url.endswith("/master.m3u8")
    async with httpx.AsyncClient(timeout=10) as http:
        master = await http.get(url)
        assert master.status_code == 200
        assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert "immutable" in master.headers["cache-control"]
        media_playlist = url.rsplit("/", 1)[0] + "/240p/index.m3u8"
        playlist = (await http.get(media_playlist)).text
        segment = next(line for line in playlist.splitlines() if line.endswith(".ts"))
        served = await http.get(url.rsplit("/", 1)[0] + "/240p/" + segment)
        assert served.status_code == 200 and served.headers["content-type"] == "video/mp2t"
    # The whole stream, every segment through the signed prefix, decoded end to end.
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", url, "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert "Video: h264" in stderr.decode() and "Audio: aac" in stderr.decode()


async def test_an_original_is_served_whole_or_by_range(content, tmp_path):
    data = png(96, 96)
    media_id = await _upload(content, tmp_path, data, "IMAGE")
    url = await _playback_url(content, media_id)
    assert url.endswith("/file")
    async with httpx.AsyncClient(timeout=10) as http:
        whole = await http.get(url)
        assert whole.content == data and whole.headers["content-type"] == "image/png"
        assert whole.headers["accept-ranges"] == "bytes"
        part = await http.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == data[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
        tail = await http.get(url, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == data[-10:]
        beyond = await http.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{len(data)}"


async def test_expired_tampered_and_unknown_urls_are_refused(content, tmp_path):
    data = png(32, 32)
    media_id = await _upload(content, tmp_path, data, "IMAGE")
    url = await _playback_url(content, media_id)
    base = content.served.base
    signer = content.runtime.signer
    _, _, _, expires, signature, _ = url.removeprefix(base).split("/")
    async with httpx.AsyncClient(timeout=10) as http:
        async def refused(target: str, status: int, reason: str) -> None:
            response = await http.get(target)
            assert response.status_code == status, response.text
            assert response.json()["error"]["reason"] == reason
            assert response.headers["cache-control"] == "no-store"

        tampered = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
        await refused(f"{base}/media/{media_id}/{expires}/{tampered}/file", 403, "BAD_SIGNATURE")
        # The same signature with a later expiry is a forgery too.
        await refused(f"{base}/media/{media_id}/{int(expires) + 3600}/{signature}/file", 403,
                      "BAD_SIGNATURE")
        expired = signer.path(media_id, ttl=60, file="file", now=time.time() - 120)
        await refused(base + expired, 403, "URL_EXPIRED")
        ghost = "0" * 32
        await refused(base + signer.path(ghost, ttl=60, file="file"), 404, "UNKNOWN_MEDIA")
        await refused(base + signer.path(media_id, ttl=60, file="master.m3u8"), 404,
                      "UNKNOWN_PATH")  # an image has no HLS tree
        await refused(base + signer.path(media_id, ttl=60, file="240p/%2e%2e/%2e%2e/x"), 404,
                      "UNKNOWN_PATH")
        assert (await http.get(url)).content == data  # the genuine URL still works


def test_only_the_original_and_hls_paths_name_files():
    from shared.errors import NotFoundError
    from subgraphs.content.services.playback import object_path

    for path in ("file", "master.m3u8", "480p/index.m3u8", "480p/seg_012.ts"):
        assert object_path(path) == path
    for path in ("../x", "240p/../../x", "240p/seg_1.ts/..", "index.m3u8", "", "file/.."):
        with pytest.raises(NotFoundError):
            object_path(path)


async def test_unfinished_media_have_no_playback_url(content):
    created = await content.graphql('mutation { createUpload(kind: IMAGE, filename: "a.png", '
                                    'size: 100) { media { id playbackUrl } } }', user="alice")
    assert created["data"]["createUpload"]["media"]["playbackUrl"] is None
