"""Real files of the types content accepts, made in memory (no fixtures on disk)."""

from __future__ import annotations

import os
import struct
import zlib


def png(width: int = 256, height: int = 256) -> bytes:
    """A valid RGB PNG of random pixels (random, so it does not compress away)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def mp4(size: int) -> bytes:
    """An ISO-BMFF file: an `ftyp` box (what identifies MP4) and an `mdat` box of `size` total."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    payload = os.urandom(size - len(ftyp) - 8)
    return ftyp + struct.pack(">I", len(payload) + 8) + b"mdat" + payload
