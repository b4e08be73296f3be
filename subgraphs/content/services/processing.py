"""Video processing with FFmpeg (the binary `imageio-ffmpeg` ships): probe, one HLS rendition.

A stored VIDEO is PROCESSING until this runs: it probes the source (display size after
rotation, duration, codecs), transcodes it in one FFmpeg pass to an H.264/AAC HLS rendition for
each of 240, 480 and 720 lines the source reaches (never upscaled; audio loudness-normalised),
writes a master playlist whose BANDWIDTH is each rendition's measured peak segment bitrate,
stores it all beside the source and makes the media READY. A source FFmpeg
cannot read ends FAILED with FFmpeg's reason, and nothing it produced stays in storage.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import sqlalchemy as sa

from shared.db import Database
from shared.events import add_event
from shared.redis import KeyValue
from subgraphs.content.models import Media, Rendition, StoredObject, utcnow
from subgraphs.content.services.kinds import MediaStatus
from subgraphs.content.services.media import MEDIA_READY, media_ready_event
from subgraphs.content.services.progress import ProgressEvent, Reporter, publish
from subgraphs.content.services.storage import ObjectStore

__all__ = ["LADDER", "Probe", "ProcessingError", "hls_prefix", "ladder", "probe",
           "process_media"]

log = logging.getLogger("tributary.content.processing")

LADDER = (240, 480, 720)
_BITRATES = {240: 400, 480: 1200, 720: 2800}  # kbit/s caps of the video of each rung
SEGMENT_SECONDS = 4
_CODECS = "avc1.4d401f,mp4a.40.2"  # H.264 Main 3.1, AAC-LC
_CODECS_VIDEO_ONLY = "avc1.4d401f"


class ProcessingError(Exception):
    """The source cannot be processed (corrupt, not a video): the media ends FAILED."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Probe:
    width: int  # as displayed, rotation applied
    height: int
    duration: float
    video_codec: str
    audio_codec: str | None
    rotation: int


def hls_prefix(storage_key: str) -> str:
    return f"{storage_key}.hls"


def _probe_sync(path: Path) -> Probe:
    frames = imageio_ffmpeg.read_frames(str(path))
    try:
        meta: dict[str, Any] = frames.__next__()
    except (OSError, RuntimeError, StopIteration) as error:  # with FFmpeg's own words
        raise ProcessingError(_reason(str(error))) from None
    finally:
        frames.close()
    width, height = meta.get("size") or (0, 0)
    duration = float(meta.get("duration") or 0)
    if not width or not height or duration <= 0:
        raise ProcessingError("FFmpeg found no video stream with a duration")
    rotation = int(meta.get("rotate") or 0)
    source = tuple(meta.get("source_size") or (width, height))
    if not rotation and source != (width, height) and source == (height, width):
        rotation = 90  # a display matrix (newer FFmpeg) turns the frames a quarter
    return Probe(width=int(width), height=int(height), duration=duration,
                 video_codec=str(meta.get("codec")), audio_codec=meta.get("audio_codec"),
                 rotation=rotation)


async def probe(path: Path) -> Probe:
    return await asyncio.to_thread(_probe_sync, path)


def _reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    useful = [line for line in lines if "error" in line.lower() or "invalid" in line.lower()]
    return (useful or lines or ["FFmpeg failed"])[-1][:400]


async def _ffmpeg(*args: str, duration: float = 0.0,
                  progress: Callable[[float], Awaitable[None]] | None = None) -> None:
    watch = ["-progress", "pipe:1", "-nostats"] if progress is not None else []
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        *watch, *args, stdout=asyncio.subprocess.PIPE if progress else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    errors = asyncio.create_task(process.stderr.read())  # read beside stdout: no full pipe
    if progress is not None and process.stdout is not None:
        async for line in process.stdout:
            if line.startswith(b"out_time_us=") and line[12:].strip().isdigit() and duration:
                await progress(int(line[12:]) / 1e6 / duration)
    await process.wait()
    stderr = await errors
    if process.returncode != 0:
        raise ProcessingError(_reason(stderr.decode(errors="replace")))


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def ladder(found: Probe) -> list[tuple[int, int]]:
    """(width, height) of each rendition: the standard heights the source reaches, never
    upscaled; a source below the smallest gets one rendition at its own size."""
    heights = [h for h in LADDER if h <= found.height] or [_even(found.height)]
    return [(_even(found.width * h / found.height), h) for h in heights]


async def _transcode(source: Path, out: Path, found: Probe, *,
                     progress: Callable[[float], Awaitable[None]] | None = None
                     ) -> list[tuple[int, int]]:
    """Every rendition of the ladder in one FFmpeg pass, each in `out/<height>p/`
    (index.m3u8 + seg_NNN.ts); returns their sizes."""
    sizes = ladder(found)
    count = len(sizes)
    graph = [f"[0:v]split={count}" + "".join(f"[v{i}]" for i in range(count))]
    graph += [f"[v{i}]scale={w}:{h}[o{i}]" for i, (w, h) in enumerate(sizes)]
    if found.audio_codec:
        graph.append("[0:a]loudnorm=I=-16:TP=-1.5:LRA=11,aresample=48000,"
                     f"asplit={count}" + "".join(f"[a{i}]" for i in range(count)))
    outputs: list[str] = []
    for i, (_, h) in enumerate(sizes):
        directory = out / f"{h}p"
        directory.mkdir()
        rate = _BITRATES.get(h, 400)
        audio = ["-map", f"[a{i}]", "-c:a", "aac", "-b:a", "128k", "-ac", "2"] \
            if found.audio_codec else []
        outputs += ["-map", f"[o{i}]", *audio, "-c:v", "libx264", "-profile:v", "main",
                    "-level", "3.1", "-preset", "veryfast", "-crf", "23",
                    "-maxrate", f"{rate}k", "-bufsize", f"{rate * 2}k", "-pix_fmt", "yuv420p",
                    "-g", str(SEGMENT_SECONDS * 30), "-f", "hls",
                    "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
                    "-hls_segment_filename", str(directory / "seg_%03d.ts"),
                    str(directory / "index.m3u8")]
    await _ffmpeg("-i", str(source), "-filter_complex", ";".join(graph), *outputs,
                  duration=found.duration, progress=progress)
    return sizes


def _bandwidths(directory: Path) -> tuple[int, int]:
    """Peak and average bits per second of the segments the media playlist lists."""
    playlist = (directory / "index.m3u8").read_text()
    durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+)", playlist)]
    names = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    sizes = [(directory / name).stat().st_size for name in names]
    rates = [size * 8 / max(d, 0.001) for size, d in zip(sizes, durations, strict=True)]
    average = sum(sizes) * 8 / max(sum(durations), 0.001)
    return int(max(rates)), int(average)


def master_playlist(renditions: list[Rendition], *, prefix: str) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for r in sorted(renditions, key=lambda r: r.height):
        lines.append(f"#EXT-X-STREAM-INF:BANDWIDTH={r.bandwidth},AVERAGE-BANDWIDTH="
                     f"{r.average_bandwidth},RESOLUTION={r.width}x{r.height},"
                     f'CODECS="{r.codecs}"')
        lines.append(r.playlist_key.removeprefix(prefix + "/"))
    return "\n".join(lines) + "\n"


async def _download(store: ObjectStore, key: str, target: Path) -> None:
    with target.open("wb") as out:
        async for chunk in store.read(key):
            await asyncio.to_thread(out.write, chunk)


async def process_media(*, database: Database, store: ObjectStore, media_id: str,
                        kv: KeyValue | None = None) -> str:
    """Process a PROCESSING video; returns the state it ends in. Safe to run twice.
    With `kv`, progress and the final state go to `mediaProcessed` subscribers."""
    async with database.session() as session:
        media = await session.get(Media, media_id)
    if media is None or media.status != MediaStatus.PROCESSING.value:
        return media.status if media is not None else "GONE"
    assert media.storage_key is not None
    prefix = hls_prefix(media.storage_key)
    work = Path(tempfile.mkdtemp(prefix="tributary-media-"))
    try:
        source = work / "source"
        await _download(store, media.storage_key, source)
        found = await probe(source)
        out = work / "hls"
        out.mkdir()
        renditions = []
        reporter = Reporter(kv, media_id) if kv is not None else None
        for width, height in await _transcode(source, out, found, progress=reporter):
            directory = out / f"{height}p"
            bandwidth, average = await asyncio.to_thread(_bandwidths, directory)
            renditions.append(Rendition(
                media_id=media_id, height=height, width=width, bandwidth=bandwidth,
                average_bandwidth=average,
                codecs=_CODECS if found.audio_codec else _CODECS_VIDEO_ONLY,
                playlist_key=f"{prefix}/{height}p/index.m3u8"))
            for path in sorted(directory.iterdir()):
                content_type = ("application/vnd.apple.mpegurl" if path.suffix == ".m3u8"
                                else "video/mp2t")
                await store.put_file(f"{prefix}/{height}p/{path.name}", path,
                                     content_type=content_type)
        master = work / "master.m3u8"
        master.write_text(master_playlist(renditions, prefix=prefix))
        await store.put_file(f"{prefix}/master.m3u8", master,
                             content_type="application/vnd.apple.mpegurl")
    except ProcessingError as error:
        reason = f"FFmpeg could not process this video: {error}"
        await _fail(database, store, media, reason)
        if kv is not None:
            await publish(kv, ProgressEvent(media_id=media_id, status=MediaStatus.FAILED.value,
                                            progress=0, failure_reason=reason))
        return MediaStatus.FAILED.value
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    async with database.session() as session, session.begin():
        await session.execute(sa.delete(Rendition).where(Rendition.media_id == media_id))
        session.add_all(renditions)
        await session.execute(sa.update(Media).where(Media.id == media_id).values(
            status=MediaStatus.READY.value, width=found.width, height=found.height,
            duration_seconds=found.duration, hls_master_key=f"{prefix}/master.m3u8",
            updated_at=utcnow()))
        await add_event(session, topic=MEDIA_READY, key=media_id,
                        payload=media_ready_event(media))
    if kv is not None:
        await publish(kv, ProgressEvent(media_id=media_id, status=MediaStatus.READY.value,
                                        progress=100))
    return MediaStatus.READY.value


async def _fail(database: Database, store: ObjectStore, media: Media, reason: str) -> None:
    """FAILED with `reason`; the source and anything made from it leave storage unless another
    of the owner's media still holds the same bytes."""
    log.info("media %s failed processing: %s", media.id, reason)
    orphan: str | None = None
    async with database.session() as session, session.begin():
        await session.execute(sa.update(Media).where(Media.id == media.id).values(
            status=MediaStatus.FAILED.value, failure_reason=reason[:500], storage_key=None,
            updated_at=utcnow()))
        others = await session.scalar(sa.select(sa.func.count()).select_from(Media).where(
            Media.owner_id == media.owner_id, Media.sha256 == media.sha256,
            Media.id != media.id, Media.status != MediaStatus.FAILED.value))
        if not others:
            await session.execute(sa.delete(StoredObject).where(
                StoredObject.owner_id == media.owner_id, StoredObject.sha256 == media.sha256))
            orphan = media.storage_key
    if orphan is not None:
        await store.delete_prefix(hls_prefix(orphan))
        await store.delete(orphan)
