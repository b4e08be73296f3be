"""Leaderboards of top tippers and top creators, served from KV sorted sets.

The sets are a cache of the tips table: each tip increments them after it commits, and a board
whose "built" marker is missing (Redis flushed, new period, marker expired) is rebuilt from the
tips table on the next read, so losing Redis loses no data. Markers expire hourly, which also
heals any increment lost between a commit and a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.redis import KeyValue, ScoreBump
from subgraphs.wallet.models import Tip, utcnow
from subgraphs.wallet.services.money import get_currency

__all__ = [
    "Board",
    "BoardKind",
    "Period",
    "RankedUser",
    "board",
    "own_rank",
    "rebuild",
    "record_tip",
    "top",
]

_MARKER_TTL = 3600.0
_BUCKET_TTL = {"day": 3 * 86400.0, "week": 15 * 86400.0, "month": 63 * 86400.0, "all": None}


class BoardKind(StrEnum):
    TIPPERS = "tippers"  # ranked by tips sent
    CREATORS = "creators"  # ranked by tips received


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True, kw_only=True, slots=True)
class Board:
    kind: BoardKind
    period: Period
    currency: str
    bucket: str
    start: datetime | None

    @property
    def key(self) -> str:
        return f"lb:{self.kind}:{self.period}:{self.bucket}:{self.currency}"

    @property
    def marker(self) -> str:
        return f"lb:built:{self.kind}:{self.period}:{self.bucket}:{self.currency}"


@dataclass(frozen=True, kw_only=True, slots=True)
class RankedUser:
    user_id: str
    rank: int  # 1-based
    total: int  # minor units


def board(kind: BoardKind, period: Period, currency: str, *, at: datetime | None = None) -> Board:
    now = at or utcnow()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return Board(kind=kind, period=period, currency=currency, bucket=day.strftime("%Y-%m-%d"), start=day)
    if period is Period.WEEK:
        start = day - timedelta(days=day.weekday())
        iso = start.isocalendar()
        return Board(kind=kind, period=period, currency=currency, bucket=f"{iso.year}-W{iso.week:02d}", start=start)
    if period is Period.MONTH:
        start = day.replace(day=1)
        return Board(kind=kind, period=period, currency=currency, bucket=start.strftime("%Y-%m"), start=start)
    return Board(kind=kind, period=period, currency=currency, bucket="all", start=None)


async def record_tip(kv: KeyValue, *, sender_id: str, recipient_id: str, currency: str,
                     amount: int, at: datetime,
                     announce: tuple[str, bytes | str] | None = None) -> None:
    """Add a committed tip to every board it counts on (boards not built yet are skipped:
    the next read rebuilds them from the tips table, this tip included), then publish
    `announce` (channel, message) if given. One round trip."""
    score = float(amount)
    await kv.zincrby_guarded([
        ScoreBump(key=key, member=sender_id if kind is BoardKind.TIPPERS else recipient_id,
                  amount=score, guard=marker, ttl=ttl)
        for kind, key, marker, ttl in _bump_targets(_utc_day(at), currency)
    ], publish=announce)


def _utc_day(at: datetime) -> date:
    # naive datetimes are UTC here, as the database hands them back from SQLite
    return (at if at.tzinfo is None else at.astimezone(UTC)).date()


@lru_cache(maxsize=64)
def _bump_targets(day: date, currency: str) -> tuple[tuple[BoardKind, str, str, float | None], ...]:
    # The same eight boards for every tip of a day and currency: worked out once, not per tip.
    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return tuple(
        (b.kind, b.key, b.marker, _BUCKET_TTL[b.period])
        for period in Period
        for b in (board(BoardKind.TIPPERS, period, currency, at=at),
                  board(BoardKind.CREATORS, period, currency, at=at))
    )


async def rebuild(kv: KeyValue, *, session: AsyncSession, b: Board) -> None:
    """Replace a board with the totals computed from the tips table."""
    column = Tip.sender_id if b.kind is BoardKind.TIPPERS else Tip.recipient_id
    query = sa.select(column, sa.func.sum(Tip.amount)).where(Tip.currency == b.currency)  # type: ignore[arg-type]
    if b.start is not None:
        query = query.where(Tip.created_at >= b.start)  # type: ignore[arg-type, operator]
    rows = (await session.execute(query.group_by(column))).all()
    await kv.delete(b.key)
    if rows:
        await kv.zadd(b.key, {user: float(total) for user, total in rows})
        ttl = _BUCKET_TTL[b.period]
        if ttl is not None:
            await kv.expire(b.key, ttl)
    await kv.set(b.marker, "1", ttl=_MARKER_TTL)


async def _rebuild(kv: KeyValue, database: Database, b: Board) -> None:
    async with database.session() as session:
        await rebuild(kv, session=session, b=b)


async def _ensure(kv: KeyValue, database: Database, b: Board) -> None:
    if await kv.get(b.marker) is None:
        await _rebuild(kv, database, b)


async def top(kv: KeyValue, *, database: Database, kind: BoardKind, period: Period,
              currency: str, limit: int = 10, at: datetime | None = None) -> list[RankedUser]:
    """The board's first `limit` users: one KV round trip, plus a rebuild when it is not built."""
    b = board(kind, period, get_currency(currency).code, at=at)
    stop = max(1, min(limit, 100)) - 1
    rows = await kv.zrevrange_guarded(b.marker, b.key, 0, stop)
    if rows is None:
        await _rebuild(kv, database, b)
        rows = await kv.zrevrange(b.key, 0, stop, withscores=True)
    return [RankedUser(user_id=user, rank=i + 1, total=int(score)) for i, (user, score) in enumerate(rows)]


async def own_rank(kv: KeyValue, *, database: Database, kind: BoardKind, period: Period,
                   currency: str, user_id: str, at: datetime | None = None) -> RankedUser | None:
    b = board(kind, period, get_currency(currency).code, at=at)
    await _ensure(kv, database, b)
    rank = await kv.zrevrank(b.key, user_id)
    if rank is None:
        return None
    score = await kv.zscore(b.key, user_id)
    return RankedUser(user_id=user_id, rank=rank + 1, total=int(score or 0))
