"""Fixtures of the social subgraph tests: a migrated database on SQLite and PostgreSQL, a KV."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db import Database, create_database, upgrade
from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import DATABASE_KINDS, database_url, drop_process_databases, run_in_thread
from subgraphs.social.models import SocialBase

MIGRATIONS = Path(__file__).resolve().parents[3] / "subgraphs" / "social" / "migrations"
# One PostgreSQL database per test process: a full-suite run and an area run at the same moment
# must not truncate each other's rows. Databases of processes that are gone are dropped.
PG_PREFIX = "tributary_test_social_"
PG_DBNAME = f"{PG_PREFIX}{os.getpid()}"
_pg_migrated = False


@pytest.fixture(scope="session", autouse=True)
def _postgres_database_lifecycle(request: pytest.FixtureRequest):
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
