"""SQLModel tables of the content subgraph (own MetaData, every table prefixed `content_`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events import include_event_tables

__all__ = ["ContentBase", "Media", "Rendition", "StoredObject", "metadata", "utcnow"]


class ContentBase(SQLModel, registry=registry()):
    """Base of the content tables; its MetaData is separate from every other subgraph's."""


metadata = ContentBase.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default_factory=None if nullable else utcnow,
                 sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index))


class Media(ContentBase, table=True):
    """One media object from its upload on: state, declared and detected facts, storage."""

    __tablename__ = "content_media"
    __table_args__ = (sa.Index("ix_content_media_owner_created", "owner_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=32)
    owner_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # IMAGE | VIDEO | AUDIO
    status: str = Field(max_length=16, index=True)  # UPLOADING ... READY | FAILED
    filename: str = Field(max_length=255)
    size: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    # Bytes received so far (tus Upload-Offset); equals size once the upload is complete.
    received: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False))
    content_type: str | None = Field(default=None, max_length=100)  # detected from the bytes
    sha256: str | None = Field(default=None, max_length=64)
    storage_key: str | None = Field(default=None, max_length=200)
    failure_reason: str | None = Field(default=None, max_length=500)
    # What processing found and made (videos): display size, duration, the HLS master playlist.
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    duration_seconds: float | None = Field(default=None)
    hls_master_key: str | None = Field(default=None, max_length=200)
    upload_metadata: dict[str, str] = Field(default_factory=dict, sa_column=sa.Column(
        sa.JSON(), nullable=False))
    expires_at: datetime | None = _ts(nullable=True, index=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class StoredObject(ContentBase, table=True):
    """Bytes in the object store, once per owner and sha256 however many media name them."""

    __tablename__ = "content_objects"

    owner_id: str = Field(primary_key=True, max_length=64)
    sha256: str = Field(primary_key=True, max_length=64)
    storage_key: str = Field(max_length=200)
    size: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    content_type: str = Field(max_length=100)
    created_at: datetime = _ts()


class Rendition(ContentBase, table=True):
    """One HLS rendition of a video: its size, peak bandwidth and media playlist in the store."""

    __tablename__ = "content_renditions"

    media_id: str = Field(primary_key=True, max_length=32, foreign_key="content_media.id",
                          ondelete="CASCADE")
    height: int = Field(primary_key=True)
    width: int
    bandwidth: int = Field(description="Peak segment bitrate, bits per second.")
    average_bandwidth: int
    codecs: str = Field(max_length=100)
    playlist_key: str = Field(max_length=200)


include_event_tables(metadata)
