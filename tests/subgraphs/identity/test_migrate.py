"""Identity's alembic migrations: upgrade in place on both engines, matching the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from subgraphs.identity.migrate import VERSION_TABLE, migrate
from subgraphs.identity.models import metadata


async def test_upgrade_is_idempotent_and_matches_models(database):
    await migrate(database)  # already at head: a no-op, data untouched
    async with database.engine.connect() as conn:
        version = (await conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar_one()

        def diff(sync_conn):
            context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)

        differences = await conn.run_sync(diff)
    assert version == "0003_identity_devices"
    # Only the version table itself is outside the models.
    assert [d for d in differences if not (d[0] == "remove_table" and d[1].name.startswith("alembic_version"))] == []


async def test_upgrade_keeps_existing_rows(database, session, hasher):
    from subgraphs.identity.services.users import register_user

    await register_user(session=session, hasher=hasher, handle="alice", password="Correct-Horse-42")
    await migrate(database)
    async with database.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT handle FROM identity_users"))).scalar_one() == "alice"
