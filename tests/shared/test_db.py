"""Database on SQLite and PostgreSQL: sessions, pragmas, and alembic upgrades in place."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, select

from shared.db import Database, create_database, make_model_base, upgrade
from shared.testing import database_url
from tests.shared.conftest import PG_DBNAME

DemoBase = make_model_base("shared_demo")
MIGRATIONS = Path(__file__).parent / "demo_migrations" / "demo" / "migrations"


class Note(DemoBase, table=True):  # type: ignore[call-arg,misc]
    __tablename__ = "shared_demo_notes"
    id: int | None = Field(default=None, primary_key=True)
    body: str = Field(max_length=200)


async def _reset(database: Database) -> None:
    async with database.engine.begin() as conn:
        for table in ("shared_demo_notes", "shared_demo_items", "alembic_version_demo"):
            await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))


@pytest.fixture
async def database(db_url: str) -> Database:
    database = create_database(db_url, pool_size=2, max_overflow=2)
    await _reset(database)
    yield database
    await _reset(database)
    await database.dispose()


async def test_session_round_trip(database: Database) -> None:
    assert await database.ping()
    async with database.engine.begin() as conn:
        await conn.run_sync(DemoBase.metadata.create_all)
    async with database.transaction() as session:
        session.add(Note(body="hello; DROP TABLE shared_demo_notes; --"))
    async with database.session() as session:
        notes = (await session.exec(select(Note))).all()
    assert [n.body for n in notes] == ["hello; DROP TABLE shared_demo_notes; --"]


async def test_failed_transaction_rolls_back(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.run_sync(DemoBase.metadata.create_all)
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            session.add(Note(body="half-written"))
            await session.flush()
            raise RuntimeError("business rule failed")
    async with database.session() as session:
        assert (await session.exec(select(Note))).all() == []


def test_model_base_keeps_tables_apart() -> None:
    from sqlmodel import SQLModel

    assert set(DemoBase.metadata.tables) == {"shared_demo_notes"}
    assert "shared_demo_notes" not in SQLModel.metadata.tables


async def test_dialect_is_chosen_by_url(database: Database, db_url: str) -> None:
    expected = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    assert database.dialect == expected


async def test_sqlite_pragmas_and_parent_dir(tmp_path: Path) -> None:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path}/nested/dir/x.db")
    try:
        async with database.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
        assert (tmp_path / "nested" / "dir" / "x.db").exists()
    finally:
        await database.dispose()


async def test_upgrade_existing_database_in_place(database: Database) -> None:
    await upgrade(database, MIGRATIONS, revision="0001")
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO shared_demo_items (name) VALUES (:n)"), {"n": "a"})
    await upgrade(database, MIGRATIONS)  # head: adds a column and a unique index
    async with database.session() as session:
        rows = (await session.execute(
            text("SELECT name, price_cents FROM shared_demo_items"))).all()
        version = (await session.execute(
            text("SELECT version_num FROM alembic_version_demo"))).scalar()
    assert [tuple(r) for r in rows] == [("a", 0)]
    assert version == "0002"
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO shared_demo_items (name) VALUES ('a')"))
    await upgrade(database, MIGRATIONS)  # idempotent at head

    def columns(sync_conn: object) -> set[str]:
        return {c["name"] for c in inspect(sync_conn).get_columns("shared_demo_items")}

    async with database.engine.connect() as conn:
        assert await conn.run_sync(columns) == {"id", "name", "price_cents"}


@pytest.mark.postgres
async def test_connection_closed_by_the_server_is_replaced_at_checkout(tmp_path: Path) -> None:
    # No pre-ping round trips: a pooled connection the server terminated (a restart, an admin
    # kill) is noticed at checkout and replaced, so the next session works.
    url = database_url("postgresql", tmp_path=tmp_path, pg_dbname=PG_DBNAME)
    database, admin = create_database(url, pool_size=1, max_overflow=0), create_database(url)
    try:
        async with database.engine.connect() as conn:
            pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
        async with admin.engine.connect() as conn:
            assert (await conn.exec_driver_sql("SELECT pg_terminate_backend($1)", (pid,))).scalar()
        for _ in range(50):  # let the event loop read the server's goodbye
            await asyncio.sleep(0.01)
        assert await database.ping()
        async with database.engine.connect() as conn:
            assert (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        await database.dispose()
        await admin.dispose()


@pytest.mark.postgres
async def test_direct_connections_autocommit_and_are_pooled(tmp_path: Path) -> None:
    url = database_url("postgresql", tmp_path=tmp_path, pg_dbname=PG_DBNAME)
    database = create_database(url, pool_size=1, max_overflow=1)
    try:
        await _reset(database)
        async with database.engine.begin() as conn:
            await conn.run_sync(DemoBase.metadata.create_all)
        async with database.direct() as connection:
            assert not connection.is_in_transaction()
            await connection.execute("INSERT INTO shared_demo_notes (body) VALUES ($1)", "direct")
            first = await connection.fetchval("SELECT pg_backend_pid()")
        # committed without a transaction block: the ORM session sees it
        async with database.session() as session:
            assert [n.body for n in (await session.exec(select(Note))).all()] == ["direct"]
        pids = set()
        for _ in range(5):
            async with database.direct() as connection:
                pids.add(await connection.fetchval("SELECT pg_backend_pid()"))
        assert pids == {first}  # one idle connection, reused
    finally:
        await _reset(database)
        await database.dispose()


async def test_direct_connections_are_refused_on_sqlite(tmp_path: Path) -> None:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    try:
        with pytest.raises(RuntimeError, match="PostgreSQL"):
            async with database.direct():
                pass
    finally:
        await database.dispose()
