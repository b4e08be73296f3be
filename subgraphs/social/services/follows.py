"""Follows and the follower/following counters they keep exact, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError
from shared.redis import KeyValue
from subgraphs.social.models import Follow, FollowRequest, PrivacySettings, UserStats
from subgraphs.social.services import feeds
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._sql import insert_ignore
from subgraphs.social.services._validation import check_ref_ids
from subgraphs.social.services.notifications import add_notification, publish_notifications

__all__ = [
    "FollowEdge",
    "add_follow",
    "adjust_stats",
    "follow",
    "followed_ids",
    "get_stats",
    "is_private",
    "list_followers",
    "list_following",
    "remove_follow",
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
    """Follow `followee_id`, or ask to when the account is private; True if this created the
    follow or the request, False if either already existed."""
    from subgraphs.social.services.blocks import require_not_blocked

    check_ref_ids([followee_id], argument="userId")
    if follower_id == followee_id:
        raise BadUserInputError("You cannot follow yourself", extensions={"argument": "userId"})
    await require_not_blocked(session=session, actor_id=follower_id, other_ids=[followee_id], argument="userId")
    if await is_private(session, followee_id) and not await _follows(session, follower_id, followee_id):
        return await _request(session, kv, requester_id=follower_id, target_id=followee_id)
    if not await add_follow(session, follower_id=follower_id, followee_id=followee_id):
        return False
    notice = await add_notification(
        session, user_id=followee_id, kind="follow", actor_id=follower_id, subject_id=follower_id
    )
    await session.commit()
    await feeds.invalidate_home(kv, [follower_id])
    await publish_notifications(kv, [notice])
    return True


async def is_private(session: AsyncSession, user_id: str) -> bool:
    row = await session.get(PrivacySettings, user_id)
    return row is not None and row.is_private


async def _follows(session: AsyncSession, follower_id: str, followee_id: str) -> bool:
    return await session.get(Follow, (follower_id, followee_id)) is not None


async def _request(session: AsyncSession, kv: KeyValue, *, requester_id: str, target_id: str) -> bool:
    try:
        async with session.begin_nested():
            session.add(FollowRequest(requester_id=requester_id, target_id=target_id))
            await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    notice = await add_notification(
        session, user_id=target_id, kind="follow_request", actor_id=requester_id, subject_id=requester_id
    )
    await session.commit()
    await publish_notifications(kv, [notice])
    return True


async def add_follow(session: AsyncSession, *, follower_id: str, followee_id: str) -> bool:
    """Insert the follow and count it, in the caller's transaction; False if it existed."""
    try:
        async with session.begin_nested():
            session.add(Follow(follower_id=follower_id, followee_id=followee_id))
            await session.flush()
    except IntegrityError:
        return False
    await adjust_stats(
        session,
        {followee_id: {"followers_count": 1}, follower_id: {"following_count": 1}},
    )
    return True


async def remove_follow(session: AsyncSession, *, follower_id: str, followee_id: str) -> bool:
    """Delete the follow and uncount it, in the caller's transaction. The DELETE's row count
    decides the counter change, so concurrent removals decrement once."""
    result = await session.execute(
        Follow.__table__.delete().where(  # type: ignore[attr-defined]
            Follow.__table__.c.follower_id == follower_id,  # type: ignore[attr-defined]
            Follow.__table__.c.followee_id == followee_id,  # type: ignore[attr-defined]
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await adjust_stats(
        session,
        {followee_id: {"followers_count": -1}, follower_id: {"following_count": -1}},
    )
    return True


async def unfollow(*, session: AsyncSession, kv: KeyValue, follower_id: str, followee_id: str) -> bool:
    """Stop following (or withdraw a pending follow request); True if something was removed."""
    removed = await remove_follow(session, follower_id=follower_id, followee_id=followee_id)
    withdrawn = await session.execute(delete(FollowRequest).where(
        FollowRequest.requester_id == follower_id, FollowRequest.target_id == followee_id  # type: ignore[arg-type]
    ))
    if not removed and withdrawn.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return False
    await session.commit()
    if removed:
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
