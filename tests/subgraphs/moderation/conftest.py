"""Moderation test fixtures: a migrated database on SQLite and PostgreSQL, the loaded classifier."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.db import Database, create_database, upgrade
from shared.testing import DATABASE_KINDS, database_url, drop_process_databases, run_in_thread
from subgraphs.moderation.migrate import MIGRATIONS_DIR
from subgraphs.moderation.models import metadata
from subgraphs.moderation.services.classifier import TextClassifier

# One PostgreSQL database per test process, so that concurrent pytest runs never share rows.
PG_PREFIX = "tributary_test_moderation_"
PG_DBNAME = f"{PG_PREFIX}{os.getpid()}"
_pg_migrated = False


@pytest.fixture(scope="session", autouse=True)
def _postgres_database_lifecycle(request: pytest.FixtureRequest):
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
    global _pg_migrated
    if not _pg_migrated:
        async with database.engine.begin() as connection:
            await connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            await connection.execute(sa.text("CREATE SCHEMA public"))
        await upgrade(database, MIGRATIONS_DIR)
        _pg_migrated = True
    async with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            await connection.execute(table.delete())


async def make_database(kind: str, tmp_path: Path) -> Database:
    database = create_database(database_url(kind, tmp_path=tmp_path, pg_dbname=PG_DBNAME),
                               pool_size=4)
    if kind == "postgresql":
        await _reset_postgres(database)
    else:
        await upgrade(database, MIGRATIONS_DIR)
    return database


@pytest.fixture(params=DATABASE_KINDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = await make_database(request.param, tmp_path)
    yield database
    await database.dispose()


_classifier: TextClassifier | None = None


@pytest.fixture
def classifier() -> TextClassifier:
    """One loaded classifier per test process (loading the model takes seconds)."""
    global _classifier
    if _classifier is None:
        _classifier = TextClassifier()
        _classifier.load()
    return _classifier
