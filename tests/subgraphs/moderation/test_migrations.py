"""Moderation's alembic migrations build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from subgraphs.moderation.models import metadata


async def test_migrated_schema_matches_models(database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": "alembic_version_moderation"})
        return compare_metadata(context, metadata)

    async with database.engine.connect() as connection:
        changes = await connection.run_sync(diff)
        version = (await connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version_moderation")).scalar()
    assert changes == []
    assert version == "0001"
