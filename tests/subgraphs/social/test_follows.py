"""Follows: idempotence, exact counters (also under concurrency), keyset pagination."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from shared.errors import BadUserInputError
from subgraphs.social.models import Follow, Notification
from subgraphs.social.services import follows


async def _follow(database, kv, a: str, b: str) -> bool:
    async with database.session() as session:
        return await follows.follow(session=session, kv=kv, follower_id=a, followee_id=b)


async def _unfollow(database, kv, a: str, b: str) -> bool:
    async with database.session() as session:
        return await follows.unfollow(session=session, kv=kv, follower_id=a, followee_id=b)


async def _stats(database, *users: str):
    async with database.session() as session:
        return await follows.get_stats(session=session, user_ids=list(users))


async def test_follow_is_idempotent_and_counts(database, kv):
    assert await _follow(database, kv, "alice", "bob") is True
    assert await _follow(database, kv, "alice", "bob") is False
    assert await _follow(database, kv, "carol", "bob") is True
    stats = await _stats(database, "alice", "bob", "carol", "nobody")
    assert (stats["bob"].followers_count, stats["bob"].following_count) == (2, 0)
    assert (stats["alice"].followers_count, stats["alice"].following_count) == (0, 1)
    assert stats["nobody"].followers_count == 0
    assert await _unfollow(database, kv, "alice", "bob") is True
    assert await _unfollow(database, kv, "alice", "bob") is False
    stats = await _stats(database, "alice", "bob")
    assert stats["bob"].followers_count == 1 and stats["alice"].following_count == 0


async def test_follow_notifies_the_followee_once(database, kv):
    await _follow(database, kv, "alice", "bob")
    await _follow(database, kv, "alice", "bob")
    async with database.session() as session:
        rows = list((await session.execute(select(Notification))).scalars())
    assert [(n.user_id, n.kind, n.actor_id) for n in rows] == [("bob", "follow", "alice")]


async def test_cannot_follow_oneself(database, kv):
    with pytest.raises(BadUserInputError):
        await _follow(database, kv, "alice", "alice")


async def test_followers_pages_by_keyset_without_gaps_or_repeats(database, kv):
    followers = [f"user{i:02d}" for i in range(7)]
    for user in followers:
        await _follow(database, kv, user, "star")
    seen, after = [], None
    while True:
        async with database.session() as session:
            page = await follows.list_followers(session=session, user_id="star", first=3, after=after)
        seen += [e.user_id for e in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert sorted(seen) == followers and len(seen) == len(set(seen))
    # Newest first: the last follower comes first.
    assert seen[0] == "user06"
    async with database.session() as session:
        following = await follows.list_following(session=session, user_id="user03", first=10)
    assert [e.user_id for e in following.items] == ["star"]


async def test_bad_cursor_is_bad_user_input(database, kv):
    async with database.session() as session:
        with pytest.raises(BadUserInputError):
            await follows.list_followers(session=session, user_id="x", first=3, after="garbage!")
        page = await follows.list_following(session=session, user_id="x", first=3)
        assert page.items == ()


async def test_concurrent_follow_unfollow_never_drift(database, kv):
    """Many concurrent follow/unfollow calls on the same pairs: counters equal the rows."""
    users = [f"u{i}" for i in range(6)]
    calls = []
    for round_ in range(2):
        for i, a in enumerate(users):
            for j, b in enumerate(users):
                if a != b:
                    op = _follow if (i * 7 + j * 3 + round_) % 3 else _unfollow
                    calls.append(op(database, kv, a, b))
    await asyncio.gather(*calls)
    async with database.session() as session:
        rows = (await session.execute(select(Follow.followee_id, func.count()).group_by(Follow.followee_id))).all()
        followers_by_rows = dict(rows)
        rows = (await session.execute(select(Follow.follower_id, func.count()).group_by(Follow.follower_id))).all()
        following_by_rows = dict(rows)
    stats = await _stats(database, *users)
    for user in users:
        assert stats[user].followers_count == followers_by_rows.get(user, 0), user
        assert stats[user].following_count == following_by_rows.get(user, 0), user
