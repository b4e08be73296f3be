"""URLs for the real PostgreSQL/Redis on this machine and SQLite files under tmp paths."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

PG_HOST = os.environ.get("TRIBUTARY_TEST_PG", "postgres@127.0.0.1:5432")
T = TypeVar("T")
REDIS_URL = os.environ.get("TRIBUTARY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Parametrize storage fixtures with this: the same test body runs on both engines.
DATABASE_KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


async def ensure_postgres_database(dbname: str) -> str:
    """Create database `dbname` if missing; return its asyncpg SQLAlchemy URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", dbname):
        raise ValueError(f"unsafe database name {dbname!r}")
    conn = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", dbname)
        if not exists:
            try:
                # Identifiers cannot be bound parameters; the name is checked above.
                await conn.execute(f'CREATE DATABASE "{dbname}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # created concurrently by another test process
    finally:
        await conn.close()
    return f"postgresql+asyncpg://{PG_HOST}/{dbname}"


def run_in_thread(coroutine_fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run `coroutine_fn(*args, **kwargs)` on an event loop of its own, in a thread: usable inside or
    outside a running loop (session fixtures are sync, test loops are per test)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coroutine_fn(*args, **kwargs)))  # type: ignore[arg-type]
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def postgres_url(dbname: str) -> str:
    """Sync wrapper of `ensure_postgres_database`, usable inside or outside an event loop."""
    return run_in_thread(ensure_postgres_database, dbname)


async def drop_process_databases(prefix: str, *, own: bool) -> None:
    """Drop the per-process databases `<prefix><pid>` of test processes that are gone, and this
    process's own when `own`. One database per process lets a full run and an area run share
    the server without emptying each other's tables."""
    conn = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1",
                                prefix.replace("_", r"\_") + "%")
        for (name,) in rows:
            pid = name.removeprefix(prefix)
            if not pid.isdigit():
                continue
            if (own and int(pid) == os.getpid()) or (int(pid) != os.getpid() and not _alive(int(pid))):
                # Identifiers cannot be bound parameters; the name is the prefix and digits.
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sqlite_url(tmp_path: Path, name: str = "test") -> str:
    return f"sqlite+aiosqlite:///{(tmp_path / f'{name}.db').as_posix()}"


def redis_url() -> str:
    return REDIS_URL


def database_url(kind: str, *, tmp_path: Path, pg_dbname: str) -> str:
    """URL for a `DATABASE_KINDS` entry: a fresh SQLite file or the shared test PostgreSQL db."""
    if kind == "sqlite":
        return sqlite_url(tmp_path)
    if kind == "postgresql":
        return postgres_url(pg_dbname)
    raise ValueError(f"unknown database kind {kind!r}")
