"""Media kinds and the content types each accepts, detected from the bytes (`filetype`)."""

from __future__ import annotations

import enum

import filetype

__all__ = ["HEADER_BYTES", "KIND_TYPES", "MediaKind", "MediaStatus", "detect_type", "kind_of"]

# filetype reads at most this many leading bytes.
HEADER_BYTES = 8192


class MediaKind(enum.Enum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"


class MediaStatus(enum.Enum):
    UPLOADING = "UPLOADING"
    UPLOADED = "UPLOADED"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


KIND_TYPES: dict[MediaKind, frozenset[str]] = {
    MediaKind.IMAGE: frozenset({"image/jpeg", "image/png", "image/gif", "image/webp",
                                "image/heic", "image/avif"}),
    MediaKind.VIDEO: frozenset({"video/mp4", "video/quicktime", "video/webm",
                                "video/x-matroska", "video/x-m4v"}),
    MediaKind.AUDIO: frozenset({"audio/mpeg", "audio/mp4", "audio/m4a", "audio/ogg",
                                "audio/x-wav", "audio/x-flac", "audio/aac"}),
}


def detect_type(header: bytes) -> str | None:
    """The MIME type the leading bytes show, or None when they match no known signature."""
    guess = filetype.guess(header)
    return str(guess.mime) if guess is not None else None


def kind_of(content_type: str) -> MediaKind | None:
    """The kind a declared MIME type belongs to (`video/mp4` -> VIDEO), if any."""
    prefix = content_type.split("/", 1)[0].strip().lower()
    return {"image": MediaKind.IMAGE, "video": MediaKind.VIDEO,
            "audio": MediaKind.AUDIO}.get(prefix)
