"""Identity fixtures: storage on SQLite and PostgreSQL, KV on real Redis and in memory."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from shared.auth import SigningKeys
from shared.db import Database, create_database
from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import (
    DATABASE_KINDS,
    drop_process_databases,
    postgres_url,
    redis_url,
    sqlite_url,
)
from subgraphs.identity.config import IdentitySettings
from subgraphs.identity.migrate import VERSION_TABLE, migrate
from subgraphs.identity.models import metadata
from subgraphs.identity.security.passwords import PasswordHasher

# One database per test process, as wallet's and social's: several pytest processes (the suite,
# a clean-clone CI run, another checkout) may test against the same server at once.
PG_PREFIX = "tributary_test_identity_"
PG_DBNAME = f"{PG_PREFIX}{os.getpid()}"
KV_KINDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]
# A strong password the policy accepts, reused by many tests.
GOOD_PASSWORD = "Correct-Horse-42"


def make_database(url: str) -> Database:
    # Small pools: other areas test against the same PostgreSQL server at the same time.
    return create_database(url, pool_size=4, max_overflow=4)


async def _reset_postgres(url: str) -> None:
    database = make_database(url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
        await migrate(database)
    finally:
        await database.dispose()


async def _migrate_file(path: Path) -> None:
    database = make_database(f"sqlite+aiosqlite:///{path.as_posix()}")
    try:
        await migrate(database)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def pg_identity_url() -> Iterator[str]:
    url = postgres_url(PG_DBNAME)
    asyncio.run(_reset_postgres(url))
    yield url
    asyncio.run(drop_process_databases(PG_PREFIX, own=True))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("identity-template") / "template.db"
    asyncio.run(_migrate_file(path))
    return path


@pytest.fixture(params=DATABASE_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "identity.db")
        return sqlite_url(tmp_path, "identity")
    return str(request.getfixturevalue("pg_identity_url"))


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = make_database(db_url)
    if db.dialect == "postgresql":
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(sa.text(f"TRUNCATE {tables} CASCADE"))
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[Any]:
    async with database.session() as s:
        yield s


@pytest.fixture
def count_rows(database: Database) -> Callable[[], Awaitable[dict[str, int]]]:
    """Row counts of every identity table (to prove nothing was half-written)."""

    async def count() -> dict[str, int]:
        counts: dict[str, int] = {}
        async with database.engine.connect() as conn:
            for table in metadata.sorted_tables:
                result = await conn.execute(sa.select(sa.func.count()).select_from(table))
                counts[table.name] = int(result.scalar_one())
        return counts

    return count


@pytest.fixture(scope="session")
def hasher() -> PasswordHasher:
    # argon2id with test-sized costs; production costs are checked in test_passwords.
    return PasswordHasher(time_cost=1, memory_cost_kib=8192, parallelism=1)


@pytest.fixture(params=KV_KINDS)
async def kv(request: pytest.FixtureRequest) -> AsyncIterator[KeyValue]:
    prefix = f"test:identity:{uuid.uuid4().hex}:"
    if request.param == "memory":
        store = create_kv(None, prefix=prefix, store=MemoryStore())
        yield store
        return
    store = create_kv(redis_url(), prefix=prefix)
    try:
        yield store
    finally:
        client = store.client  # type: ignore[attr-defined]
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await store.close()


@pytest.fixture
def memory_kv() -> KeyValue:
    return create_kv(None, prefix="test:identity:", store=MemoryStore())


@pytest.fixture(scope="session")
def signing_pem() -> str:
    return SigningKeys.generate().to_pem().decode()


@pytest.fixture
def make_settings(
    db_url: str, database: Database, tmp_path: Path, signing_pem: str
) -> Callable[..., IdentitySettings]:
    # Depends on `database` so PostgreSQL tables are truncated before every app test.
    def make(**overrides: Any) -> IdentitySettings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": db_url,
            "data_dir": str(tmp_path / "data"),
            "signing_key_pem": signing_pem,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 8192,
            "argon2_parallelism": 1,
            "db_pool_size": 4,
            "db_max_overflow": 4,
            "bootstrap_admin_handle": "root_admin",
        }
        values.update(overrides)
        return IdentitySettings(**values)

    return make


class Api:
    """A GraphQL client over httpx ASGITransport against the real identity app."""

    def __init__(self, client: Any, app: Any) -> None:
        self.client = client
        self.app = app

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        if api_key is not None:
            sent["authorization"] = f"ApiKey {api_key}"
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)
        assert response.status_code == status, response.text
        return response.json()  # type: ignore[no-any-return]

    async def register(self, handle: str = "alice", password: str = GOOD_PASSWORD, **extra: Any) -> dict[str, Any]:
        body = await self(REGISTER, {"input": {"handle": handle, "password": password, **extra}})
        assert "errors" not in body, body
        return body["data"]["register"]  # type: ignore[no-any-return]


REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    accessToken refreshToken tokenType expiresIn
    user { id handle displayName email roles verified }
  }
}
"""


@pytest.fixture
def app_factory(make_settings: Callable[..., IdentitySettings], database: Database, memory_kv: KeyValue):
    """Build an identity app around the test database; yields an Api once started."""
    import contextlib

    import httpx

    from subgraphs.identity.app import create_app

    @contextlib.asynccontextmanager
    async def start(*, kv: KeyValue | None = None, **overrides: Any) -> AsyncIterator[Api]:
        settings = make_settings(**overrides)
        # Each app gets its own engine: the app disposes it at shutdown.
        app = create_app(settings, database=make_database(settings.database_url), kv=kv or memory_kv)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://identity.test") as client:
                yield Api(client, app)

    return start


@pytest.fixture
async def api(app_factory: Any) -> AsyncIterator[Api]:
    async with app_factory() as client:
        yield client
