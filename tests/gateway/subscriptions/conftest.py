"""Fixture subgraphs and gateways served by uvicorn on ephemeral ports, in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from gateway.config import GatewaySettings
from gateway.server import create_app
from tests.gateway.subscriptions._subgraphs import Recorder, chat_app, users_app

SUPERGRAPH = (Path(__file__).parent / "supergraph.graphql").read_text()


@dataclass
class Served:
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int
    app: Any

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def stop(self) -> None:
        if self.task.done():
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 3)
        except TimeoutError:
            self.server.force_exit = True
            await self.task


async def serve(app: Any) -> Served:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    return Served(server=server, task=task, port=sock.getsockname()[1], app=app)


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def servers() -> AsyncIterator[list[Served]]:
    """Every server a test started; stopped together at the end (shutdown takes a few ticks each)."""
    started: list[Served] = []
    yield started
    await asyncio.gather(*(served.stop() for served in started))


@pytest.fixture
async def chat(recorder: Recorder, servers: list[Served]) -> Served:
    servers.append(served := await serve(chat_app(recorder)))
    return served


@pytest.fixture
async def users(recorder: Recorder, servers: list[Served]) -> Served:
    servers.append(served := await serve(users_app(recorder)))
    return served


GatewayFactory = Callable[..., Awaitable[Served]]


@pytest.fixture
async def make_gateway(chat: Served, users: Served, servers: list[Served]) -> GatewayFactory:
    async def factory(**overrides: Any) -> Served:
        settings = GatewaySettings(
            subgraph_urls={"chat": f"{chat.http}/graphql", "users": f"{users.http}/graphql"},
            subgraph_timeout_seconds=5.0,
            **overrides,
        )
        servers.append(served := await serve(create_app(settings, supergraph_sdl=SUPERGRAPH)))
        return served

    return factory


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Served:
    return await make_gateway()
