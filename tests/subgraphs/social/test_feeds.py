"""Feeds: membership of each feed, keyset pages, cache hits and invalidation on writes."""

from __future__ import annotations

import pytest

from shared.errors import BadUserInputError, NotFoundError
from subgraphs.social.services import circles, feeds, follows, posts, reactions


async def _post(database, kv, author, visibility="public", circle_id=None, text="p"):
    async with database.session() as session:
        return await posts.create_post(session=session, kv=kv, author_id=author, text=text,
                                       visibility=visibility, circle_id=circle_id)


async def _home(database, kv, viewer, first=50, after=None, ttl=30):
    async with database.session() as session:
        return await feeds.home_feed(session=session, kv=kv, viewer_id=viewer, first=first, after=after, ttl=ttl)


async def test_home_feed_membership_and_order(database, kv):
    async with database.session() as session:
        await follows.follow(session=session, kv=kv, follower_id="me", followee_id="friend")
    async with database.session() as session:
        circle = await circles.create_circle(session=session, owner_id="owner", name="club")
    async with database.session() as session:
        await circles.add_member(session=session, kv=kv, actor_id="owner", circle_id=circle.id, user_id="me")
    mine = await _post(database, kv, "me")
    friend_public = await _post(database, kv, "friend")
    friend_followers = await _post(database, kv, "friend", "followers")
    stranger = await _post(database, kv, "stranger")
    club = await _post(database, kv, "owner", "circle", circle.id)
    page = await _home(database, kv, "me")
    assert [p.id for p in page.items] == [club.id, friend_followers.id, friend_public.id, mine.id]
    assert stranger.id not in {p.id for p in page.items}


async def test_home_feed_pages_cover_everything_once(database, kv):
    created = [await _post(database, kv, "me", text=str(i)) for i in range(9)]
    seen, after = [], None
    while True:
        page = await _home(database, kv, "me", first=4, after=after)
        seen += [p.id for p in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == [p.id for p in reversed(created)]


async def test_feed_cache_is_used_and_invalidated_by_writes(database, kv):
    await _post(database, kv, "friend")
    assert len((await _home(database, kv, "me")).items) == 0
    async with database.session() as session:
        await follows.follow(session=session, kv=kv, follower_id="me", followee_id="friend")
    # Following bumps the viewer's generation: the empty cached page is not served again.
    assert len((await _home(database, kv, "me")).items) == 1
    # A row written behind the services' back (no invalidation) stays unseen: the page is cached.
    from subgraphs.social.models import Post

    async with database.session() as session:
        session.add(Post(author_id="friend", text="sneaky", visibility="public"))
        await session.commit()
    assert len((await _home(database, kv, "me")).items) == 1
    assert len((await _home(database, kv, "me", ttl=0)).items) == 2
    # A new post by a followed author invalidates the follower's cached page.
    await _post(database, kv, "friend")
    assert len((await _home(database, kv, "me")).items) == 3


async def test_feed_without_cache_reads_through(database, kv):
    await _post(database, kv, "me")
    assert len((await _home(database, kv, "me", ttl=0)).items) == 1
    assert await kv.get("feed:home:me:0:50:") is None


async def test_circle_feed_requires_membership(database, kv):
    async with database.session() as session:
        circle = await circles.create_circle(session=session, owner_id="owner", name="club")
    post = await _post(database, kv, "owner", "circle", circle.id)
    async with database.session() as session:
        page = await feeds.circle_feed(session=session, kv=kv, viewer_id="owner", circle_id=circle.id, first=10)
        assert [p.id for p in page.items] == [post.id]
        with pytest.raises(NotFoundError):
            await feeds.circle_feed(session=session, kv=kv, viewer_id="outsider", circle_id=circle.id, first=10)


async def test_trending_ranks_engagement_and_only_public(database, kv):
    quiet = await _post(database, kv, "a")
    popular = await _post(database, kv, "b")
    await _post(database, kv, "c", "followers")
    for user in ("u1", "u2", "u3"):
        async with database.session() as session:
            await reactions.react(session=session, kv=kv, user_id=user, post_id=popular.id, kind="like")
    async with database.session() as session:
        page = await feeds.trending_feed(session=session, kv=kv, first=1)
        assert [p.id for p in page.items] == [popular.id] and page.has_next_page
        rest = await feeds.trending_feed(session=session, kv=kv, first=5, after=page.end_cursor)
        assert [p.id for p in rest.items] == [quiet.id] and not rest.has_next_page
        with pytest.raises(BadUserInputError):  # a home cursor is not a trending cursor
            home = await feeds.home_feed(session=session, kv=kv, viewer_id="a", first=1)
            await feeds.trending_feed(session=session, kv=kv, first=5, after=home.end_cursor)
