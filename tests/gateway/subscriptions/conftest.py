"""Fixture subgraphs and gateways served by uvicorn on ephemeral ports, in the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewaySettings
from gateway.server import create_app
from shared.testing import Served, start_server
from tests.gateway.subscriptions._subgraphs import Recorder, chat_app, users_app

SUPERGRAPH = (Path(__file__).parent / "supergraph.graphql").read_text()


async def serve(app: Any) -> Served:
    return await start_server(app)


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
            subgraph_urls={"chat": f"{chat.base}/graphql", "users": f"{users.base}/graphql"},
            subgraph_timeout_seconds=5.0,
            **overrides,
        )
        servers.append(served := await serve(create_app(settings, supergraph_sdl=SUPERGRAPH)))
        return served

    return factory


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Served:
    return await make_gateway()
