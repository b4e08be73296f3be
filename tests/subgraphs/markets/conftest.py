"""Markets test fixtures: the same tests run on SQLite (a migrated file per test) and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.db import Database, create_database, upgrade
from shared.testing import DATABASE_KINDS, drop_process_databases, postgres_url, sqlite_url
from subgraphs.markets.migrate import MIGRATIONS_DIR
from subgraphs.markets.models import metadata

# One database per test process: the whole suite and this area's tests may run at the same
# time (several pytest processes), and each resets and empties its own tables.
PG_PREFIX = "tributary_test_markets_"
PG_DBNAME = f"{PG_PREFIX}{os.getpid()}"


def make_database(url: str) -> Database:
    # Kept small: other areas test against the same PostgreSQL server at the same time.
    return create_database(url, pool_size=8, max_overflow=8)


async def _reset_postgres(url: str) -> None:
    database = make_database(url)
    try:
        # The database is this area's own: start every session from an empty schema.
        async with database.engine.begin() as conn:
            await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
        await upgrade(database, MIGRATIONS_DIR)
    finally:
        await database.dispose()


async def _make_sqlite_template(path: Path) -> None:
    database = make_database(f"sqlite+aiosqlite:///{path.as_posix()}")
    try:
        await upgrade(database, MIGRATIONS_DIR)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def pg_markets_url() -> Iterator[str]:
    url = postgres_url(PG_DBNAME)
    asyncio.run(_reset_postgres(url))
    yield url
    asyncio.run(drop_process_databases(PG_PREFIX, own=True))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("markets-template") / "template.db"
    asyncio.run(_make_sqlite_template(path))
    return path


@pytest.fixture(params=DATABASE_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        url = sqlite_url(tmp_path, "markets")
        shutil.copyfile(template, tmp_path / "markets.db")
        return url
    return str(request.getfixturevalue("pg_markets_url"))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = make_database(db_url)
    if database.dialect == "postgresql":
        # DELETE, not TRUNCATE: on tables this small it is several times faster.
        async with database.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
    try:
        yield database
    finally:
        await database.dispose()
