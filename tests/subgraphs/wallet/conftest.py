"""Wallet test fixtures: the same tests run on SQLite (a migrated file per test) and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from shared.testing import DATABASE_KINDS, postgres_url, sqlite_url
from subgraphs.wallet.migrate import upgrade_engine
from subgraphs.wallet.models import metadata

PG_DBNAME = "tributary_test_wallet"


@dataclass
class WalletDb:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    dialect: str

    def session(self) -> AsyncSession:
        return self.sessionmaker()


def make_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=40)


async def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version_wallet"))
            await conn.execute(sa.text("DROP TABLE IF EXISTS outbox_events"))
            await conn.execute(sa.text("DROP TABLE IF EXISTS processed_events"))
        await upgrade_engine(engine)
    finally:
        await engine.dispose()


async def _make_sqlite_template(path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{path.as_posix()}")
    try:
        await upgrade_engine(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_wallet_url() -> str:
    url = postgres_url(PG_DBNAME)
    asyncio.run(_reset_postgres(url))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wallet-template") / "template.db"
    asyncio.run(_make_sqlite_template(path))
    return path


@pytest.fixture(params=DATABASE_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        url = sqlite_url(tmp_path, "wallet")
        shutil.copyfile(template, tmp_path / "wallet.db")
        return url
    return str(request.getfixturevalue("pg_wallet_url"))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[WalletDb]:
    engine = make_engine(db_url)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield WalletDb(
            engine=engine,
            sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
            dialect=engine.dialect.name,
        )
    finally:
        await engine.dispose()
