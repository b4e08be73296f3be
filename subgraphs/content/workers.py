"""Background work of the content subgraph: the sweep of expired unfinished uploads.

It runs in the app (one loop per replica; removing an upload twice is harmless). Media
processing actors will live here too.
"""

from __future__ import annotations

import asyncio
import logging

from subgraphs.content.services.uploads import Uploads

__all__ = ["sweep_forever"]

log = logging.getLogger("tributary.content")


async def sweep_forever(uploads: Uploads, *, seconds: float) -> None:
    while True:
        try:
            removed = await uploads.sweep()
            if removed:
                log.info("expired uploads removed", extra={"count": removed})
        except Exception:
            log.exception("upload sweep failed")
        await asyncio.sleep(seconds)
