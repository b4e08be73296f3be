"""The gateway half of `make run`: compose from the in-process subgraphs and serve on :4000."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

import uvicorn

from .config import GatewaySettings
from .server import create_app
from .server.app import Gateway
from .server.live_composition import compose_first, poll_subgraphs


async def start(subgraphs: Mapping[str, str], loop: asyncio.AbstractEventLoop | None = None) -> tuple[str, uvicorn.Server]:
    """Compose once (so the first request finds a schema), then serve and keep recomposing.

    Returns the GraphiQL URL and the uvicorn server (set `should_exit` to stop it).
    """
    settings = GatewaySettings(
        host=os.environ.get("GATEWAY_HOST", "127.0.0.1"),
        port=int(os.environ.get("GATEWAY_PORT", "4000")),
    )
    urls = dict(subgraphs)
    served: tuple[str, ...] | None = None

    async def recompose(gateway: Gateway) -> None:
        await poll_subgraphs(gateway, urls, settings.poll_interval_seconds * 2, served=served)

    app = create_app(settings, background=(recompose,))
    gateway: Gateway = app.state.gateway
    served = await compose_first(gateway, urls)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on")
    )
    (loop or asyncio.get_running_loop()).create_task(server.serve())
    return f"http://{settings.host}:{settings.port}/graphql", server
