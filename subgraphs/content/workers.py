"""Background work of the content subgraph: video processing actors and the upload sweep.

The processing actor runs in-process on the app's event loop in embedded mode (shared.jobs'
EmbeddedWorker); in production `dramatiq subgraphs.content.workers`. It takes a media id and is
safe to run twice (it acts only on PROCESSING media). The sweep runs in the app: it removes
expired unfinished uploads with their bytes and re-sends processing a dead worker left.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import dramatiq

from shared.db import Database, database_from_settings
from shared.jobs import configure_broker
from shared.redis import KeyValue, create_kv
from subgraphs.content.config import ContentSettings
from subgraphs.content.services.processing import process_media
from subgraphs.content.services.storage import ObjectStore, store_from_settings
from subgraphs.content.services.uploads import Uploads

__all__ = ["QUEUE", "bind", "enqueue_processing", "process_media_job", "sweep_forever"]

log = logging.getLogger("tributary.content.workers")
QUEUE = "content"

if dramatiq.broker.global_broker is None:
    # Imported by the `dramatiq subgraphs.content.workers` CLI: declare the actors on the
    # broker the settings name, not on dramatiq's default one.
    configure_broker(ContentSettings().redis_url)


@dataclass
class _Resources:
    database: Database
    store: ObjectStore
    kv: KeyValue


_bound: _Resources | None = None


def bind(*, database: Database, store: ObjectStore, kv: KeyValue) -> None:
    """Use the app's database, object store and KV (embedded worker on the app's loop)."""
    global _bound
    _bound = _Resources(database=database, store=store, kv=kv)


def _resources() -> _Resources:
    global _bound
    if _bound is None:  # a standalone dramatiq worker process
        settings = ContentSettings()
        _bound = _Resources(database=database_from_settings(settings),
                            store=store_from_settings(settings),
                            kv=create_kv(settings.redis_url, prefix=settings.kv_prefix))
    return _bound


@dramatiq.actor(actor_name="content.process_media", queue_name=QUEUE, max_retries=3)
async def process_media_job(media_id: str) -> None:
    resources = _resources()
    await process_media(database=resources.database, store=resources.store, media_id=media_id,
                        kv=resources.kv)


async def enqueue_processing(media_id: str) -> None:
    process_media_job.send(media_id)


async def sweep_forever(uploads: Uploads, *, seconds: float) -> None:
    while True:
        try:
            removed = await uploads.sweep()
            if removed:
                log.info("expired uploads removed", extra={"count": removed})
        except Exception:
            log.exception("upload sweep failed")
        await asyncio.sleep(seconds)
