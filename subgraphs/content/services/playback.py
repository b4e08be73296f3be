"""Playback URLs: signed and expiring, one signature for a media's whole HLS tree.

A URL is `/media/<id>/<expires>/<signature>/<path>`: the signature (HMAC-SHA256 of id and
expiry) sits in the path, so the relative URIs of an HLS playlist (`240p/index.m3u8`,
`seg_000.ts`) resolve under the same signed prefix and need no signature of their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from shared.errors import ForbiddenError, NotFoundError

__all__ = ["PLAYBACK_PATH", "UrlSigner", "load_signing_key", "object_path"]

PLAYBACK_PATH = "/media"
_KEY_FILE = "content_url_signing.key"
_HLS_PATH = re.compile(r"^(master\.m3u8|[0-9]{2,4}p/(index\.m3u8|seg_[0-9]{3,5}\.ts))$")
ORIGINAL = "file"


@dataclass(frozen=True, slots=True)
class UrlSigner:
    key: bytes

    def signature(self, media_id: str, expires: int) -> str:
        mac = hmac.new(self.key, f"{media_id}:{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def path(self, media_id: str, *, ttl: int, file: str, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + ttl)
        return f"{PLAYBACK_PATH}/{media_id}/{expires}/{self.signature(media_id, expires)}/{file}"

    def check(self, media_id: str, expires: str, signature: str, *,
              now: float | None = None) -> int:
        """The expiry of a genuine, unexpired URL; FORBIDDEN for any other."""
        if not expires.isdigit() or not hmac.compare_digest(
                signature, self.signature(media_id, int(expires))):
            raise ForbiddenError("This playback URL's signature is not valid",
                                 extensions={"reason": "BAD_SIGNATURE"})
        if int(expires) <= (now if now is not None else time.time()):
            raise ForbiddenError("This playback URL has expired: ask for the media again",
                                 extensions={"reason": "URL_EXPIRED"})
        return int(expires)


def object_path(path: str) -> str:
    """`file` (the original) or a path of the HLS tree; NOT_FOUND for anything else."""
    if path == ORIGINAL or _HLS_PATH.match(path):
        return path
    raise NotFoundError("No such file of this media", extensions={"reason": "UNKNOWN_PATH"})


def load_signing_key(configured: str | None, *, environment: str, data_dir: str) -> bytes:
    if configured:
        if len(configured) < 32:
            raise SystemExit("CONTENT_URL_SIGNING_KEY must be at least 32 characters")
        return configured.encode()
    if environment == "prod":
        raise SystemExit("CONTENT_URL_SIGNING_KEY is required in prod (playback URLs)")
    path = Path(data_dir) / _KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()
