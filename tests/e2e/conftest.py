"""Fixtures of the end-to-end tests (helpers live in `_stack.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e._stack import Served, stopping


@pytest.fixture
async def servers() -> AsyncIterator[list[Served]]:
    """Every server a test started; stopped in reverse order (gateways before subgraphs)."""
    async with stopping() as started:
        yield started


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
