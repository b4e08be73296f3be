"""Serve an ASGI app with uvicorn on an ephemeral port, in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn


@dataclass
class Served:
    """A running server; `stop` ends it (a test may stop one mid-way, e.g. a subgraph going down)."""

    app: Any
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int
    sock: socket.socket

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql(self) -> str:
        return f"{self.base}/graphql"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def websockets(self) -> int:
        """WebSocket connections this server currently holds (HTTP keep-alives not counted)."""
        return sum("WebSocket" in type(c).__name__ for c in self.server.server_state.connections)

    async def stop(self) -> None:
        if not self.task.done():
            self.server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 5)
            except TimeoutError:
                self.server.force_exit = True
                await self.task
        self.sock.close()


async def start_server(app: Any, *, lifespan: Literal["auto", "on", "off"] = "auto",
                       ws: str = "auto") -> Served:
    """Serve `app` on a free port of 127.0.0.1 until `Served.stop`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, ws=ws,
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped before starting")
        await asyncio.sleep(0.005)
    return Served(app=app, server=server, task=task, port=sock.getsockname()[1], sock=sock)


@asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Run `app` on a free port; yield its base URL (``http://127.0.0.1:PORT``)."""
    served = await start_server(app, ws="websockets-sansio")
    try:
        yield served.base
    finally:
        await served.stop()
