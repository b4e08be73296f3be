"""Where moderation's alembic migrations live (run them with `shared.db.upgrade`)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MIGRATIONS_DIR"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
