"""Fixtures of the social subgraph tests: a migrated database on SQLite and PostgreSQL, a KV."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from shared.db import Database, create_database, upgrade
from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import DATABASE_KINDS, database_url
from shared.testing._stores import PG_HOST
from subgraphs.social.models import SocialBase

MIGRATIONS = Path(__file__).resolve().parents[3] / "subgraphs" / "social" / "migrations"
# One PostgreSQL database per test process: a full-suite run and an area run at the same moment
# must not truncate each other's rows. Databases of processes that are gone are dropped.
PG_PREFIX = "tributary_test_social_"
PG_DBNAME = f"{PG_PREFIX}{os.getpid()}"
_pg_migrated = False


async def _drop_databases(names: list[str]) -> None:
    conn = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        for name in names:
            # Identifiers cannot be bound parameters; names are built from digits here.
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _stale_databases() -> list[str]:
    conn = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", PG_PREFIX + "%")
    finally:
        await conn.close()
    stale = []
    for row in rows:
        suffix = row["datname"].removeprefix(PG_PREFIX)
        if suffix.isdigit() and int(suffix) != os.getpid() and not _alive(int(suffix)):
            stale.append(row["datname"])
    return stale


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _in_thread(coroutine_fn, *args):
    """Run a coroutine on its own loop (session fixtures are sync; test loops are per test)."""
    errors: list[BaseException] = []
    result: list = []

    def run() -> None:
        try:
            result.append(asyncio.run(coroutine_fn(*args)))
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0] if result else None


@pytest.fixture(scope="session", autouse=True)
def _postgres_database_lifecycle(request: pytest.FixtureRequest):
    """Drop leftovers of dead test processes; drop this process's database at the end."""
    uses_postgres = any("postgres" in item.keywords for item in request.session.items)
    if not uses_postgres:
        yield
        return
    try:
        _in_thread(lambda: _stale_and_drop())
    except OSError:
        pass  # PostgreSQL down: the postgres tests report it themselves
    yield
    try:
        _in_thread(_drop_databases, [PG_DBNAME])
    except OSError:
        pass


async def _stale_and_drop() -> None:
    await _drop_databases(await _stale_databases())


async def _reset_postgres(database: Database) -> None:
    """First use in this process: drop and re-migrate; afterwards: empty every social table."""
    global _pg_migrated
    async with database.engine.begin() as connection:
        if not _pg_migrated:
            await connection.run_sync(SocialBase.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version_social"))
    if not _pg_migrated:
        await upgrade(database, MIGRATIONS)
        _pg_migrated = True
    names = ", ".join(t.name for t in SocialBase.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} CASCADE"))


async def make_database(kind: str, tmp_path: Path) -> Database:
    database = create_database(database_url(kind, tmp_path=tmp_path, pg_dbname=PG_DBNAME), pool_size=5)
    if kind == "postgresql":
        await _reset_postgres(database)
    else:
        await upgrade(database, MIGRATIONS)
    return database


@pytest.fixture(params=DATABASE_KINDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = await make_database(request.param, tmp_path)
    yield database
    await database.dispose()


@pytest.fixture
def kv() -> KeyValue:
    """The embedded (in-memory) KV, private to the test."""
    return create_kv(None, prefix=f"test:social:{uuid.uuid4().hex}:", store=MemoryStore())


@pytest.fixture
def issuer():
    """A token issuer with fresh keys; apps under test verify with its static JWKS."""
    from shared.auth import SigningKeys, TokenIssuer

    return TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")
