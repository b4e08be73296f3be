"""The gateway half of `make run`: compose from the in-process subgraphs and serve on :4000."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from .config import GatewaySettings
from .server import create_app
from .server.app import Gateway
from .server.credential import GatewayCredential
from .server.live_composition import compose_once, poll_subgraphs


async def start(subgraphs: Mapping[str, str], loop: asyncio.AbstractEventLoop | None = None) -> tuple[str, uvicorn.Server]:
    """Compose once (so the first request finds a schema), then serve and keep recomposing.

    Returns the GraphiQL URL and the uvicorn server (set `should_exit` to stop it).
    """
    settings = GatewaySettings(
        host=os.environ.get("GATEWAY_HOST", "127.0.0.1"),
        port=int(os.environ.get("GATEWAY_PORT", "4000")),
    )
    urls = dict(subgraphs)

    async def recompose(gateway: Gateway) -> None:
        await poll_subgraphs(gateway, urls, settings.poll_interval_seconds * 2)

    # The dev stack made the gateway a key beside the subgraphs' (see devstack.prepare_environment).
    data_dir = os.environ.get("GATEWAY_DATA_DIR")
    credential = GatewayCredential.load(pem=os.environ.get("GATEWAY_SERVICE_KEY"),
                                        data_dir=Path(data_dir) if data_dir else None)
    app = create_app(settings, background=(recompose,), credential=credential)
    gateway: Gateway = app.state.gateway
    await compose_once(gateway, urls, None)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on")
    )
    (loop or asyncio.get_running_loop()).create_task(server.serve())
    return f"http://{settings.host}:{settings.port}/graphql", server
