"""Content settings (environment prefix `CONTENT_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings

__all__ = ["ContentSettings"]


class ContentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTENT_", extra="ignore")

    service_name: str = "content"
    port: int = 4104
    kv_prefix: str = Field("tributary:content:", description="Prefix of every KV key and channel.")
    migrate_on_startup: bool = Field(True, description="Run alembic upgrade head at startup.")
    public_url: str | None = Field(
        None, description="Base URL clients reach this service at (tus upload URLs); "
        "empty = the URL each request came to.")
    storage: Literal["local", "s3"] = Field(
        "local", description="Where finished objects live: `local` files or `s3` storage.")
    storage_dir: str | None = Field(
        None, description="Root of the local store and of unfinished uploads; "
        "empty = <data_dir>/content.")
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (empty = AWS's default for the region).")
    s3_bucket: str = Field("tributary-media", description="Bucket of the finished objects.")
    s3_region: str = Field("us-east-1", description="Region of the bucket.")
    s3_access_key_id: str | None = Field(None, description="S3 access key id.")
    s3_secret_access_key: str | None = Field(None, description="S3 secret access key.")
    s3_multipart_threshold: int = Field(
        16 * 1024 * 1024, ge=5 * 1024 * 1024,
        description="Objects at least this large go to S3 as multipart uploads.")
    s3_part_size: int = Field(
        8 * 1024 * 1024, ge=5 * 1024 * 1024, description="Size of one multipart part.")
    max_upload_bytes: int = Field(
        2_000_000_000, ge=1, le=2**31 - 1,
        description="Largest single upload (tus Tus-Max-Size; a GraphQL Int holds it).")
    max_image_bytes: int = Field(
        25 * 1024 * 1024, ge=1, description="Largest image upload.")
    user_quota_bytes: int = Field(
        10 * 1024 * 1024 * 1024, ge=1,
        description="Bytes one user may hold in unfinished and finished media together.")
    upload_expiry_seconds: int = Field(
        86_400, ge=1, description="An unfinished upload untouched this long expires.")
    sweep_seconds: float = Field(
        300.0, gt=0, description="How often expired unfinished uploads and their bytes go.")
    max_chunk_bytes: int = Field(
        2_000_000_000, ge=1024,
        description="Largest body of one tus PATCH (each is staged whole before it counts; "
        "tus clients such as tuspy send the whole file in one PATCH by default).")
    url_signing_key: str | None = Field(
        None, description="HMAC key of playback URLs (at least 32 characters); dev/test "
        "generate one into <data_dir>/content_url_signing.key, prod requires it.")
    playback_ttl_seconds: int = Field(
        3600, ge=10, description="How long a playback URL works after it was handed out.")

    @property
    def storage_root(self) -> Path:
        """The local store's and the unfinished uploads' directory."""
        return Path(self.storage_dir or Path(self.data_dir) / "content")
