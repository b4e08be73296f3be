"""Video processing with FFmpeg: a real video uploaded in chunks, interrupted and resumed,
ends READY with an HLS rendition FFmpeg reads back end to end; a portrait source stays
portrait; a corrupt video ends FAILED with a reason and leaves nothing in storage."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from sqlalchemy import func, select
from tusclient.client import TusClient

from subgraphs.content.models import Media, Rendition, StoredObject
from tests.subgraphs.content._app import Content, serve_content
from tests.subgraphs.content._files import mp4

MEDIA = """query($id: ID!) { media(id: $id) {
  status contentType width height duration failureReason
  renditions { width height bandwidth averageBandwidth codecs } } }"""


@pytest.fixture
async def content(database, tmp_path, issuer):
    async with serve_content(database, tmp_path, issuer) as served:
        yield served


async def _upload_interrupted(content: Content, path: Path, *, stop_at: int) -> str:
    client = TusClient(content.uploads_url,
                       headers={"Authorization": f"Bearer {content.token('alice')}"})
    first = client.uploader(str(path), chunk_size=16_384, metadata={"kind": "VIDEO"})
    await asyncio.to_thread(first.upload, stop_at=stop_at)
    assert first.url is not None

    def resume() -> None:  # a new client, from the offset the server reports
        client.uploader(str(path), url=first.url, chunk_size=16_384).upload()

    await asyncio.to_thread(resume)
    await content.processed()
    return first.url.rsplit("/", 1)[1]


def _read_back(playlist: Path) -> dict[str, object]:
    """What FFmpeg finds decoding the whole HLS stream, through the master playlist."""
    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i",
                           str(playlist), "-f", "null", "-"], check=False, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    frames = imageio_ffmpeg.read_frames(str(playlist))
    meta = next(frames)
    frames.close()
    return meta


def _master_path(content: Content, media_id: str, sha256: str) -> Path:
    return content.settings.storage_root / "objects" / "alice" / f"{sha256}.hls" / "master.m3u8"


async def test_a_video_uploaded_in_chunks_ends_ready_with_an_hls_rendition(content, tmp_path,
                                                                          videos):
    source = tmp_path / "clip.mp4"
    source.write_bytes(videos["landscape"])
    media_id = await _upload_interrupted(content, source, stop_at=len(videos["landscape"]) // 2)
    media = (await content.graphql(MEDIA, {"id": media_id}, user="alice"))["data"]["media"]
    assert media["status"] == "READY", media
    assert (media["contentType"], media["width"], media["height"]) == ("video/mp4", 320, 240)
    assert media["duration"] == pytest.approx(3.0, abs=0.1)
    [rendition] = media["renditions"]
    # A 240-line source is never upscaled to the 480 and 720 rungs.
    assert (rendition["width"], rendition["height"]) == (320, 240)
    assert rendition["codecs"] == "avc1.4d401f,mp4a.40.2"
    assert rendition["bandwidth"] >= rendition["averageBandwidth"] > 0
    async with content.runtime.uploads.database.session() as session:
        sha256 = (await session.get(Media, media_id)).sha256
    master = _master_path(content, media_id, sha256)
    text = master.read_text()
    assert f"BANDWIDTH={rendition['bandwidth']}," in text
    assert "RESOLUTION=320x240" in text and "240p/index.m3u8" in text
    # The measured bandwidth is the playlist's real peak: recompute it from the segments.
    playlist = (master.parent / "240p" / "index.m3u8").read_text()
    durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+)", playlist)]
    names = [line for line in playlist.splitlines() if line.endswith(".ts")]
    peaks = [(master.parent / "240p" / n).stat().st_size * 8 / d
             for n, d in zip(names, durations, strict=True)]
    assert int(max(peaks)) == rendition["bandwidth"]
    read = _read_back(master)
    assert read["size"] == (320, 240) and read["audio_codec"] == "aac"
    assert read["duration"] == pytest.approx(3.0, abs=0.2)
    # READY is announced once, when processing made it so.
    async with content.runtime.uploads.database.session() as session:
        from shared.events import OutboxEvent

        events = list((await session.execute(select(OutboxEvent))).scalars())
    assert [(e.topic, e.payload["mediaId"], e.payload["kind"]) for e in events] == [
        ("content.media_ready", media_id, "VIDEO")]


async def test_a_portrait_video_keeps_its_orientation(content, tmp_path, videos):
    source = tmp_path / "portrait.mp4"
    source.write_bytes(videos["portrait"])
    media_id = await _upload_interrupted(content, source, stop_at=20_000)
    media = (await content.graphql(MEDIA, {"id": media_id}, user="alice"))["data"]["media"]
    assert media["status"] == "READY", media
    assert (media["width"], media["height"]) == (240, 320)
    # 320 lines reach only the 240 rung; the rendition stays upright (taller than wide).
    assert [(r["width"], r["height"]) for r in media["renditions"]] == [(180, 240)]
    async with content.runtime.uploads.database.session() as session:
        sha256 = (await session.get(Media, media_id)).sha256
    assert _read_back(_master_path(content, media_id, sha256))["size"] == (180, 240)


async def test_a_720p_video_gets_three_renditions_listed_in_the_master(content, tmp_path,
                                                                       videos):
    source = tmp_path / "hd.mp4"
    source.write_bytes(videos["hd"])
    media_id = await _upload_interrupted(content, source, stop_at=len(videos["hd"]) // 3)
    media = (await content.graphql(MEDIA, {"id": media_id}, user="alice"))["data"]["media"]
    assert media["status"] == "READY", media
    renditions = media["renditions"]
    assert [(r["width"], r["height"]) for r in renditions] == [(426, 240), (854, 480),
                                                               (1280, 720)]
    async with content.runtime.uploads.database.session() as session:
        sha256 = (await session.get(Media, media_id)).sha256
    master = _master_path(content, media_id, sha256)
    listed = re.findall(r"BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),RESOLUTION=(\d+)x(\d+)",
                        master.read_text())
    assert [(int(b), int(w), int(h)) for b, _, w, h in listed] == [
        (r["bandwidth"], r["width"], r["height"]) for r in renditions]
    for height in (240, 480, 720):  # each rendition decodes on its own, at its own size
        assert _read_back(master.parent / f"{height}p" / "index.m3u8")["size"][1] == height
    assert _read_back(master)["duration"] == pytest.approx(2.0, abs=0.2)


async def test_a_corrupt_video_fails_with_a_reason_and_leaves_nothing_stored(content, tmp_path):
    source = tmp_path / "broken.mp4"
    source.write_bytes(mp4(200_000))  # an MP4 signature, then noise: no playable stream
    media_id = await _upload_interrupted(content, source, stop_at=50_000)
    media = (await content.graphql(MEDIA, {"id": media_id}, user="alice"))["data"]["media"]
    assert media["status"] == "FAILED"
    assert media["failureReason"].startswith("FFmpeg could not process this video: ")
    assert media["renditions"] == []
    objects = content.settings.storage_root / "objects"
    assert not objects.exists() or [p for p in objects.rglob("*") if p.is_file()] == []
    assert content.staged() == []
    async with content.runtime.uploads.database.session() as session:
        from shared.events import OutboxEvent

        for model in (StoredObject, Rendition, OutboxEvent):  # and no media_ready announced
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0
