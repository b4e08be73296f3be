"""Follows and the follower/following counters they keep exact, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError
from shared.redis import KeyValue
from subgraphs.social.models import Follow, UserStats
from subgraphs.social.services import feeds
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._sql import insert_ignore
from subgraphs.social.services._validation import check_ref_ids
from subgraphs.social.services.notifications import add_notification, publish_notifications

__all__ = [
    "FollowEdge",
    "adjust_stats",
    "follow",
    "followed_ids",
    "get_stats",
    "list_followers",
    "list_following",
    "unfollow",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class FollowEdge:
    user_id: str
    followed_at: datetime


async def adjust_stats(session: AsyncSession, deltas: dict[str, dict[str, int]]) -> None:
    """Apply counter deltas ({user_id: {column: delta}}) as atomic in-database increments.

    Rows are touched in user-id order so two transactions adjusting the same pair of users
    (A follows B while B follows A) lock them in the same order and cannot deadlock.
    """
    user_ids = sorted(deltas)
    await insert_ignore(session, UserStats, [{"user_id": u} for u in user_ids])
    for user_id in user_ids:
        values = {
            column: getattr(UserStats, column) + delta
            for column, delta in sorted(deltas[user_id].items())
            if delta
        }
        if values:
            await session.execute(
                update(UserStats).where(UserStats.user_id == user_id).values(**values)
            )


async def follow(*, session: AsyncSession, kv: KeyValue, follower_id: str, followee_id: str) -> bool:
    """Follow `followee_id`; True if this created the follow, False if it already existed."""
    check_ref_ids([followee_id], argument="userId")
    if follower_id == followee_id:
        raise BadUserInputError("You cannot follow yourself", extensions={"argument": "userId"})
    try:
        async with session.begin_nested():
            session.add(Follow(follower_id=follower_id, followee_id=followee_id))
            await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    await adjust_stats(
        session,
        {followee_id: {"followers_count": 1}, follower_id: {"following_count": 1}},
    )
    notice = await add_notification(
        session, user_id=followee_id, kind="follow", actor_id=follower_id, subject_id=follower_id
    )
    await session.commit()
    await feeds.invalidate_home(kv, [follower_id])
    await publish_notifications(kv, [notice])
    return True


async def unfollow(*, session: AsyncSession, kv: KeyValue, follower_id: str, followee_id: str) -> bool:
    """Stop following; True if a follow was removed. The DELETE's row count decides the counter
    change, so concurrent unfollows decrement once."""
    result = await session.execute(
        Follow.__table__.delete().where(  # type: ignore[attr-defined]
            Follow.__table__.c.follower_id == follower_id,  # type: ignore[attr-defined]
            Follow.__table__.c.followee_id == followee_id,  # type: ignore[attr-defined]
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return False
    await adjust_stats(
        session,
        {followee_id: {"followers_count": -1}, follower_id: {"following_count": -1}},
    )
    await session.commit()
    await feeds.invalidate_home(kv, [follower_id])
    return True


async def get_stats(*, session: AsyncSession, user_ids: Sequence[str]) -> dict[str, UserStats]:
    """Counters per user; users never seen get zeroes."""
    rows = (await session.execute(select(UserStats).where(UserStats.user_id.in_(user_ids)))).scalars()  # type: ignore[attr-defined]
    found = {r.user_id: r for r in rows}
    return {u: found.get(u) or UserStats(user_id=u) for u in user_ids}


async def followed_ids(*, session: AsyncSession, follower_id: str, candidates: Sequence[str]) -> set[str]:
    """Which of `candidates` `follower_id` follows (for `isFollowedByMe`)."""
    query = select(Follow.followee_id).where(
        Follow.follower_id == follower_id, Follow.followee_id.in_(candidates)  # type: ignore[attr-defined]
    )
    return set((await session.execute(query)).scalars())


async def list_followers(
    *, session: AsyncSession, user_id: str, first: int, after: str | None = None
) -> Page[FollowEdge]:
    return await _list(session, "followers", user_id, first, after)


async def list_following(
    *, session: AsyncSession, user_id: str, first: int, after: str | None = None
) -> Page[FollowEdge]:
    return await _list(session, "following", user_id, first, after)


async def _list(session: AsyncSession, kind: str, user_id: str, first: int, after: str | None) -> Page[FollowEdge]:
    if kind == "followers":
        anchor, other = Follow.followee_id, Follow.follower_id
    else:
        anchor, other = Follow.follower_id, Follow.followee_id
    query = select(other, Follow.created_at).where(anchor == user_id)
    if after is not None:
        created_at, other_id = decode_cursor(kind, after, (datetime, str))
        query = query.where(keyset_after([Follow.created_at, other], [created_at, other_id], descending=True))
    query = query.order_by(Follow.created_at.desc(), other.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = (await session.execute(query)).all()
    items = [FollowEdge(user_id=r[0], followed_at=r[1]) for r in rows[:first]]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor(kind, e.followed_at, e.user_id) for e in items),
        has_next_page=len(rows) > first,
    )
