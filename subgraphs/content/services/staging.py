"""Unfinished uploads' bytes: one local file per upload, appended chunk by chunk.

A chunk is written to a file of its own first and appended only once it is complete and its
checksum (when sent) matched, so a refused or broken PATCH leaves the upload exactly as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from pathlib import Path

__all__ = ["Staging"]

_READ = 1024 * 1024


class Staging:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, media_id: str) -> Path:
        assert media_id.isascii() and media_id.isalnum(), f"bad media id {media_id!r}"
        return self.root / media_id

    def chunk_path(self) -> Path:
        return self.root / f"chunk-{uuid.uuid4().hex}"

    async def prepare(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def append(self, media_id: str, chunk: Path, *, offset: int) -> None:
        """Put `chunk` at `offset` (anything beyond it, left by a crash, is cut first)."""
        target = self.path(media_id)

        def run() -> None:
            with target.open("ab") as out:
                out.truncate(offset)
            with target.open("ab") as out, chunk.open("rb") as source:
                while data := source.read(_READ):
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())

        await asyncio.to_thread(run)

    async def header(self, media_id: str, size: int) -> bytes:
        def run() -> bytes:
            with self.path(media_id).open("rb") as handle:
                return handle.read(size)

        return await asyncio.to_thread(run)

    async def sha256(self, media_id: str) -> str:
        def run() -> str:
            digest = hashlib.sha256()
            with self.path(media_id).open("rb") as handle:
                while data := handle.read(_READ):
                    digest.update(data)
            return digest.hexdigest()

        return await asyncio.to_thread(run)

    async def size(self, media_id: str) -> int:
        try:
            return (await asyncio.to_thread(self.path(media_id).stat)).st_size
        except FileNotFoundError:
            return 0

    async def remove(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(path.unlink)

    async def discard(self, media_id: str) -> None:
        await self.remove(self.path(media_id))
