"""Where identity's alembic migrations live, and the call that applies them."""

from __future__ import annotations

from pathlib import Path

from shared.db import Database, upgrade

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "migrate"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_identity"


async def migrate(database: Database) -> None:
    """Upgrade identity's tables to the newest revision, in place."""
    await upgrade(database, MIGRATIONS_DIR, version_table=VERSION_TABLE)
