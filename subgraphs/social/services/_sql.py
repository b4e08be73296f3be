"""Dialect-specific statements the services share (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

__all__ = ["insert_ignore"]


async def insert_ignore(session: AsyncSession, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: create rows that may already exist, without a race."""
    if not rows:
        return
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    table = model.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(rows).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).values(rows).on_conflict_do_nothing()
    await session.execute(statement)
