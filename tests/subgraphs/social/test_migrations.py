"""Migrations: they build exactly the models' schema, and an existing database upgrades in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from shared.db import create_database, upgrade
from shared.testing import sqlite_url
from subgraphs.social.models import SocialBase

from .conftest import MIGRATIONS


async def test_migrated_schema_matches_the_models(database):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, SocialBase.metadata)

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    # Only the version table is the migrations' own.
    assert [d for d in differences if not (d[0] == "remove_table" and d[1].name.startswith("alembic_version"))] == []


async def test_existing_database_upgrades_in_place(tmp_path: Path):
    database = create_database(sqlite_url(tmp_path, "old"))
    try:
        await upgrade(database, MIGRATIONS, revision="0001")
        async with database.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO social_user_stats (user_id, followers_count, following_count, posts_count) "
                "VALUES ('old-user', 3, 1, 2)"))
        await upgrade(database, MIGRATIONS)
        async with database.engine.connect() as connection:
            kept = (await connection.execute(text(
                "SELECT followers_count FROM social_user_stats WHERE user_id = 'old-user'"))).scalar_one()
            version = (await connection.execute(text("SELECT version_num FROM alembic_version_social"))).scalar_one()
            outbox = (await connection.execute(text("SELECT count(*) FROM outbox_events"))).scalar_one()
        assert (kept, version, outbox) == (3, "0006", 0)
        await upgrade(database, MIGRATIONS)  # idempotent at head
    finally:
        await database.dispose()


async def _downgrade(database, revision: str) -> None:
    from alembic import command

    from shared.db import alembic_config

    config = alembic_config(MIGRATIONS)

    def down(connection):
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(down)


@pytest.mark.parametrize("revision", ["0004", "0003", "0002", "0001"])
async def test_downgrades_run(tmp_path: Path, revision: str):
    from alembic import command

    from shared.db import alembic_config

    database = create_database(sqlite_url(tmp_path, "down"))
    try:
        await upgrade(database, MIGRATIONS)
        config = alembic_config(MIGRATIONS)

        def down(connection):
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

        async with database.engine.begin() as connection:
            await connection.run_sync(down)
        async with database.engine.connect() as connection:
            version = (await connection.execute(text("SELECT version_num FROM alembic_version_social"))).scalar_one()
        assert version == revision
    finally:
        await database.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_conversations_upgrade_to_consent_keeping_what_members_saw(tmp_path: Path, kind: str):
    """0003 -> head (0005, consent) on existing rows: members stay active and old groups keep sharing history."""
    import os
    from datetime import UTC, datetime

    from shared.testing import drop_process_databases, ensure_postgres_database

    prefix = "tributary_test_socialup_"
    if kind == "postgresql":
        url = await ensure_postgres_database(f"{prefix}{os.getpid()}")
    else:
        url = sqlite_url(tmp_path, "consent")
    database = create_database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version_social"))
            await connection.run_sync(SocialBase.metadata.drop_all)
        await upgrade(database, MIGRATIONS, revision="0003")
        async with database.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO social_conversations (id, kind, title, created_at, last_message_at) "
                "VALUES ('old-group', 'group', 'old', :now, :now)"), {"now": datetime(2026, 1, 1, tzinfo=UTC)})
            await connection.execute(text(
                "INSERT INTO social_conversation_members (conversation_id, user_id, joined_at) "
                "VALUES ('old-group', 'late-joiner', :now)"), {"now": datetime(2026, 1, 2, tzinfo=UTC)})
        await upgrade(database, MIGRATIONS)
        async with database.engine.connect() as connection:
            shared_history = (await connection.execute(text(
                "SELECT share_history FROM social_conversations WHERE id = 'old-group'"))).scalar_one()
            status = (await connection.execute(text(
                "SELECT status FROM social_conversation_members WHERE user_id = 'late-joiner'"))).scalar_one()
        assert (bool(shared_history), status) == (True, "active")
        # New groups default to not sharing history (the column default after the upgrade).
        async with database.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO social_conversations (id, kind, created_at, last_message_at) "
                "VALUES ('new-group', 'group', :now, :now)"), {"now": datetime(2026, 2, 1, tzinfo=UTC)})
            fresh = (await connection.execute(text(
                "SELECT share_history FROM social_conversations WHERE id = 'new-group'"))).scalar_one()
        assert bool(fresh) is False
        await _downgrade(database, "0003")
        async with database.engine.connect() as connection:
            kept = (await connection.execute(text(
                "SELECT count(*) FROM social_conversation_members WHERE user_id = 'late-joiner'"))).scalar_one()
        assert kept == 1  # and down again without losing members
    finally:
        await database.dispose()
        if kind == "postgresql":
            await drop_process_databases(prefix, own=True)
