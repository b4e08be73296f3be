"""URLs for the real PostgreSQL/Redis on this machine and SQLite files under tmp paths."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from pathlib import Path

import asyncpg
import pytest

PG_HOST = os.environ.get("TRIBUTARY_TEST_PG", "postgres@127.0.0.1:5432")
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


def postgres_url(dbname: str) -> str:
    """Sync wrapper of `ensure_postgres_database`, usable inside or outside an event loop."""
    result: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(ensure_postgres_database(dbname)))
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


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
