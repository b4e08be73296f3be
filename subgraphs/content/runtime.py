"""Long-lived content collaborators (object store, staging area, uploads) built from settings."""

from __future__ import annotations

from dataclasses import dataclass

from shared.db import Database
from subgraphs.content.config import ContentSettings
from subgraphs.content.services.playback import UrlSigner, load_signing_key
from subgraphs.content.services.staging import Staging
from subgraphs.content.services.storage import ObjectStore, store_from_settings
from subgraphs.content.services.uploads import Limits, Uploads

__all__ = ["ContentRuntime", "build_runtime"]


@dataclass
class ContentRuntime:
    settings: ContentSettings
    store: ObjectStore
    uploads: Uploads
    signer: UrlSigner

    def public_url(self, request_base: str) -> str:
        """The base of upload URLs: the configured public URL, else where the request came."""
        return (self.settings.public_url or request_base).rstrip("/")


def build_runtime(settings: ContentSettings, database: Database, *,
                  store: ObjectStore | None = None) -> ContentRuntime:
    store = store or store_from_settings(settings)
    uploads = Uploads(database=database, staging=Staging(settings.storage_root / "uploads"),
                      store=store, limits=Limits.from_settings(settings))
    signer = UrlSigner(load_signing_key(settings.url_signing_key,
                                        environment=settings.environment,
                                        data_dir=settings.data_dir))
    return ContentRuntime(settings=settings, store=store, uploads=uploads, signer=signer)
