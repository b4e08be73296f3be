"""Async SQLModel engines and sessions (SQLite or PostgreSQL by URL) and per-subgraph migrations."""

from __future__ import annotations

import asyncio
import weakref
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import registry
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelAsyncSession

__all__ = [
    "Database",
    "alembic_config",
    "create_database",
    "database_from_settings",
    "make_model_base",
    "run_env",
    "upgrade",
]

Dialect = Literal["sqlite", "postgresql"]
_SQLITE_BUSY_TIMEOUT_MS = 5000


class Database:
    """An async engine plus its session factory (`expire_on_commit=False`).

    On PostgreSQL it also lends plain asyncpg connections (`direct`) for hot paths made of one
    statement, such as a call to a server-side function.
    """

    def __init__(self, engine: AsyncEngine, *, direct_pool_size: int = 10) -> None:
        self.engine = engine
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, class_=SQLModelAsyncSession, expire_on_commit=False
        )
        self.direct_pool_size = direct_pool_size
        self._direct: asyncpg.Pool | None = None
        self._direct_lock = asyncio.Lock()

    @property
    def dialect(self) -> Dialect:
        name = self.engine.dialect.name
        assert name in ("sqlite", "postgresql"), f"unsupported dialect {name}"
        return name  # type: ignore[return-value]

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; the caller commits. Rolled back if the block raises."""
        async with self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def direct(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled asyncpg connection outside any transaction: each statement commits itself.

        PostgreSQL only. For a hot path that is one statement with bound parameters, this skips
        the session's bookkeeping and the adapter's greenlet hop, most of such a request's CPU.
        Nothing is reset on release, so callers leave no session state behind (no SET, no
        LISTEN, no open transaction).
        """
        if self.dialect != "postgresql":
            raise RuntimeError("direct connections are for PostgreSQL")
        pool = self._direct or await self._open_direct()
        async with pool.acquire() as connection:
            yield connection

    async def _open_direct(self) -> asyncpg.Pool:
        async with self._direct_lock:
            if self._direct is None:
                dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._direct = await asyncpg.create_pool(
                    dsn, min_size=1, max_size=self.direct_pool_size, reset=_keep_as_is)
        return self._direct

    async def ping(self) -> bool:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def dispose(self) -> None:
        if self._direct is not None:
            direct, self._direct = self._direct, None
            await direct.close()
        await self.engine.dispose()


async def _keep_as_is(_connection: asyncpg.Connection) -> None:
    # asyncpg's default reset is one more round trip per release (unlock, close, unlisten,
    # reset all); `direct` callers leave nothing to reset.
    return None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout waits for that writer instead
    # of failing at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_database(url: str, *, pool_size: int = 10, max_overflow: int = 20,
                    pool_timeout: float = 30.0, echo: bool = False) -> Database:
    """A Database for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:"):
            # One shared connection, or every session would see its own empty database.
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
    elif parsed.get_backend_name() == "postgresql":
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout,
                      pool_recycle=1800)
    else:
        raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")
    engine = create_async_engine(url, **kwargs)
    database = Database(engine, direct_pool_size=pool_size + max_overflow)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return database


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # The pool's pre-ping would cost three round trips per checkout on asyncpg (BEGIN, ";",
    # ROLLBACK). A server that restarted or dropped the connection has already closed the
    # socket, and asyncpg has noticed on the event loop while the connection sat in the pool:
    # asking it is free. The pool then replaces the connection and retries the checkout.
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("connection was closed by the server")


def database_from_settings(settings: Any) -> Database:
    """A Database from a ServiceSettings' URL and pool settings."""
    return create_database(settings.database_url, pool_size=settings.db_pool_size,
                           max_overflow=settings.db_max_overflow,
                           pool_timeout=settings.db_pool_timeout, echo=settings.db_echo)


def alembic_config(migrations_dir: Path, *, url: str | None = None,
                   version_table: str | None = None) -> Config:
    """An alembic Config for a subgraph's `migrations/` directory (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["version_table"] = version_table or default_version_table(migrations_dir)
    return config


def default_version_table(migrations_dir: Path) -> str:
    """`alembic_version_<service>`, the service being the package that holds `migrations/`."""
    return f"alembic_version_{Path(migrations_dir).resolve().parent.name}"


_upgrade_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _upgrade_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _upgrade_locks.get(loop)
    if lock is None:
        lock = _upgrade_locks[loop] = asyncio.Lock()
    return lock


async def upgrade(database: Database, migrations_dir: Path, *, revision: str = "head",
                  version_table: str | None = None) -> None:
    """`alembic upgrade head` for one subgraph, in place, on the database's own engine.

    The subgraph's env.py must use `config.attributes["connection"]` when it is set.
    """
    config = alembic_config(Path(migrations_dir), version_table=version_table)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    # alembic's context is process-global; two upgrades must not interleave on one loop.
    async with _upgrade_lock(), database.engine.begin() as connection:
        await connection.run_sync(run)


def make_model_base(name: str) -> type[SQLModel]:
    """A SQLModel base with its own MetaData, so each subgraph migrates only its tables."""
    metadata = MetaData()
    base = type(f"{name.title()}Base", (SQLModel,), {}, registry=registry(metadata=metadata))
    base.metadata = metadata  # type: ignore[attr-defined]
    return base


def run_env(target_metadata: MetaData | None, *, version_table: str | None = None) -> None:
    """The body of a subgraph's migrations/env.py.

    Uses the connection `upgrade()` hands over in `config.attributes`, else the
    `sqlalchemy.url` main option (CLI / autogenerate), else offline SQL generation.
    """
    from alembic import context  # only importable inside an alembic run

    config = context.config
    # The caller's table (shared.db.upgrade passes the one it expects) wins over the default.
    table = config.attributes.get("version_table") or version_table or "alembic_version"

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one at a time (a lock per version table).
            key = zlib.crc32(table.encode())
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table=table, compare_type=True,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"),
                          target_metadata=target_metadata, version_table=table,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url or pass attributes['connection']"

    async def run_async() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(run)
        finally:
            await engine.dispose()

    asyncio.run(run_async())
