"""The gateway half of `make run`: compose from the in-process subgraphs and serve on :4000."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from .config import GatewaySettings
from .server import create_app
from .server.app import Gateway
from .server.credential import GatewayCredential
from .server.live_composition import compose_first, poll_subgraphs


async def prepare(subgraphs: Mapping[str, str]) -> tuple[str, uvicorn.Config]:
    """Compose once (so the first request finds a schema); the config serves and keeps recomposing.

    Returns the GraphiQL URL and the uvicorn config (the dev stack runs the server).
    """
    settings = GatewaySettings(
        host=os.environ.get("GATEWAY_HOST", "127.0.0.1"),
        port=int(os.environ.get("GATEWAY_PORT", "4000")),
    )
    urls = dict(subgraphs)
    served: tuple[str, ...] | None = None

    async def recompose(gateway: Gateway) -> None:
        await poll_subgraphs(gateway, urls, settings.poll_interval_seconds * 2, served=served)

    # The dev stack made the gateway a key beside the subgraphs' (see devstack.prepare_environment).
    data_dir = os.environ.get("GATEWAY_DATA_DIR")
    credential = GatewayCredential.load(pem=os.environ.get("GATEWAY_SERVICE_KEY"),
                                        data_dir=Path(data_dir) if data_dir else None)
    app = create_app(settings, background=(recompose,), credential=credential)
    gateway: Gateway = app.state.gateway
    served = await compose_first(gateway, urls)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                            lifespan="on", log_config=None, timeout_graceful_shutdown=5)
    return f"http://{settings.host}:{settings.port}/graphql", config
