"""Fixtures of the shared kit tests: both databases, both KV backends."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import (
    DATABASE_KINDS,
    database_url,
    drop_process_databases,
    redis_url,
    run_in_thread,
)

# One PostgreSQL database per test process: these tests drop and create the kit's tables, and
# another run at the same moment (another branch's, with other table shapes) must not see that.
PG_PREFIX = "tributary_test_shared_"
PG_DBNAME = f"{PG_PREFIX}{os.getpid()}"
KV_KINDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(scope="session", autouse=True)
def _postgres_database_lifecycle(request: pytest.FixtureRequest) -> Iterator[None]:
    """Drop leftovers of dead test processes; drop this process's database at the end."""
    uses_postgres = any("postgres" in item.keywords for item in request.session.items)
    if not uses_postgres:
        yield
        return
    try:
        run_in_thread(drop_process_databases, PG_PREFIX, own=False)
    except OSError:
        pass  # PostgreSQL down: the postgres tests report it themselves
    yield
    try:
        run_in_thread(drop_process_databases, PG_PREFIX, own=True)
    except OSError:
        pass


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
