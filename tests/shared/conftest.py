"""Fixtures of the shared kit tests: both databases, both KV backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import DATABASE_KINDS, database_url, redis_url

PG_DBNAME = "tributary_test_shared"
KV_KINDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=DATABASE_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request.param, tmp_path=tmp_path, pg_dbname=PG_DBNAME)


@pytest.fixture(params=KV_KINDS)
async def kv(request: pytest.FixtureRequest) -> AsyncIterator[KeyValue]:
    prefix = f"tributary_test_shared:{uuid.uuid4().hex}:"
    if request.param == "redis":
        store = create_kv(redis_url(), prefix=prefix)
    else:
        store = create_kv(None, prefix=prefix, store=MemoryStore())
    try:
        yield store
    finally:
        if request.param == "redis":
            client = store.client  # type: ignore[attr-defined]
            keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
        await store.close()
