"""One write transaction per state change, with the bounty row locked for its duration."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import NotFoundError
from subgraphs.markets.models import Bounty

__all__ = ["locked_bounty", "write_transaction"]

_sqlite_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[None]:
    """The body runs in one write transaction and commits itself; left open, it rolls back.

    SQLite has one writer: BEGIN IMMEDIATE takes the lock before the body reads, so a check
    and the write that follows it see the same rows (an asyncio lock queues this process's
    writers instead of spinning on the busy timeout).
    """
    lock = None
    if _dialect(session) == "sqlite":
        lock = _sqlite_locks.setdefault(session.get_bind(), asyncio.Lock())
        await lock.acquire()
    try:
        if _dialect(session) == "sqlite":
            await session.execute(sa.text("BEGIN IMMEDIATE"))
        yield
    finally:
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            if lock is not None:
                lock.release()


async def locked_bounty(session: AsyncSession, bounty_id: str) -> Bounty:
    """The bounty, locked until the transaction ends (PostgreSQL: FOR UPDATE)."""
    query = (sa.select(Bounty).where(Bounty.id == bounty_id)  # type: ignore[arg-type]
             .execution_options(populate_existing=True))
    if _dialect(session) == "postgresql":
        query = query.with_for_update()
    bounty = (await session.execute(query)).scalar_one_or_none()
    if bounty is None:
        raise NotFoundError("No such bounty", extensions={"bountyId": bounty_id})
    return bounty
