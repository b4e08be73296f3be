"""Fixtures of the content subgraph tests: a migrated database on SQLite and PostgreSQL, a KV,
a token issuer, and a real S3-compatible server (moto) on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.auth import SigningKeys, TokenIssuer
from shared.db import Database, create_database, upgrade
from shared.redis import KeyValue, MemoryStore, create_kv
from shared.testing import DATABASE_KINDS, database_url, drop_process_databases, run_in_thread
from subgraphs.content.migrate import MIGRATIONS_DIR
from subgraphs.content.models import ContentBase

PG_PREFIX = "tributary_test_content_"
PG_DBNAME = f"{PG_PREFIX}{os.getpid()}"
_pg_migrated = False


@pytest.fixture(scope="session", autouse=True)
def _postgres_database_lifecycle(request: pytest.FixtureRequest):
    """Drop leftovers of dead test processes; drop this process's database at the end."""
    if not any("postgres" in item.keywords for item in request.session.items):
        yield
        return
    try:
        run_in_thread(drop_process_databases, PG_PREFIX, own=False)
    except OSError:
        pass
    yield
    try:
        run_in_thread(drop_process_databases, PG_PREFIX, own=True)
    except OSError:
        pass


async def _reset_postgres(database: Database) -> None:
    global _pg_migrated
    if not _pg_migrated:
        async with database.engine.begin() as connection:
            await connection.run_sync(ContentBase.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version_content"))
        await upgrade(database, MIGRATIONS_DIR)
        _pg_migrated = True
    names = ", ".join(t.name for t in ContentBase.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=DATABASE_KINDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = create_database(database_url(request.param, tmp_path=tmp_path,
                                            pg_dbname=PG_DBNAME), pool_size=5)
    if request.param == "postgresql":
        await _reset_postgres(database)
    else:
        await upgrade(database, MIGRATIONS_DIR)
    yield database
    await database.dispose()


@pytest.fixture
def kv() -> KeyValue:
    return create_kv(None, prefix=f"test:content:{uuid.uuid4().hex}:", store=MemoryStore())


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server, a real HTTP peer on a free loopback port, for the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def ffmpeg(*args: str) -> None:
    import subprocess

    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
                    "-nostdin", "-y", *args], check=True)


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Real videos from FFmpeg's test sources with a tone: a 320x240 landscape one (3 s), the
    same turned a quarter by its display matrix (portrait as phones record it), a 720p one (2 s)."""
    directory = tmp_path_factory.mktemp("videos")
    landscape, portrait = directory / "landscape.mp4", directory / "portrait.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           str(landscape))
    ffmpeg("-display_rotation", "90", "-i", str(landscape), "-c", "copy", str(portrait))
    hd = directory / "hd.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=220:duration=2", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(hd))
    return {"landscape": landscape.read_bytes(), "portrait": portrait.read_bytes(),
            "hd": hd.read_bytes()}
