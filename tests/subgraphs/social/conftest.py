"""Fixtures of the social subgraph tests: a migrated database on SQLite and PostgreSQL, a KV."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db import Database, create_database, upgrade
from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import DATABASE_KINDS, database_url
from subgraphs.social.models import SocialBase

MIGRATIONS = Path(__file__).resolve().parents[3] / "subgraphs" / "social" / "migrations"
PG_DBNAME = "tributary_test_social"
_pg_migrated = False


async def _reset_postgres(database: Database) -> None:
    """First use in this process: drop and re-migrate; afterwards: empty every social table."""
    global _pg_migrated
    async with database.engine.begin() as connection:
        # One test process at a time resets the schema (pytest-xdist or a parallel run).
        await connection.execute(text("SELECT pg_advisory_xact_lock(716102)"))
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
