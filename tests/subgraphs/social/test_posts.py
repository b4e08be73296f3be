"""Posts, visibility, comments, reactions and their counters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.errors import BadUserInputError, ForbiddenError, NotFoundError
from subgraphs.social.models import Notification, Post
from subgraphs.social.services import circles, comments, follows, posts, reactions


async def _post(database, kv, author: str, text: str = "hello", **kwargs) -> Post:
    async with database.session() as session:
        return await posts.create_post(session=session, kv=kv, author_id=author, text=text,
                                       visibility=kwargs.pop("visibility", "public"), **kwargs)


async def _visible(database, viewer: str | None, post_id: str) -> bool:
    async with database.session() as session:
        try:
            await posts.get_visible_post(session=session, viewer_id=viewer, post_id=post_id)
        except NotFoundError:
            return False
    return True


async def test_visibility_public_followers_circle(database, kv):
    async with database.session() as session:
        circle = await circles.create_circle(session=session, owner_id="alice", name="close friends")
    async with database.session() as session:
        await circles.add_member(session=session, kv=kv, actor_id="alice", circle_id=circle.id, user_id="carol")
    async with database.session() as session:
        await follows.follow(session=session, kv=kv, follower_id="bob", followee_id="alice")
    public = await _post(database, kv, "alice", visibility="public")
    followers = await _post(database, kv, "alice", visibility="followers")
    in_circle = await _post(database, kv, "alice", visibility="circle", circle_id=circle.id)
    expected = {
        None: (True, False, False),
        "alice": (True, True, True),
        "bob": (True, True, False),      # follower, not in the circle
        "carol": (True, False, True),    # circle member, not a follower
        "dave": (True, False, False),
    }
    for viewer, visible in expected.items():
        got = tuple([await _visible(database, viewer, p.id) for p in (public, followers, in_circle)])
        assert got == visible, viewer
    async with database.session() as session:
        page = await posts.list_user_posts(session=session, viewer_id="bob", author_id="alice", first=10)
    assert [p.id for p in page.items] == [followers.id, public.id]


async def test_post_validation(database, kv):
    for kwargs in (
        {"text": "   "},
        {"text": "x" * (posts.MAX_TEXT + 1)},
        {"visibility": "secret"},
        {"visibility": "circle"},
        {"visibility": "public", "circle_id": "c1"},
        {"media_ids": ["m1", "m1"]},
        {"mention_user_ids": [f"u{i}" for i in range(posts.MAX_MENTIONS + 1)]},
    ):
        with pytest.raises(BadUserInputError):
            await _post(database, kv, "alice", **kwargs)
    async with database.session() as session:
        assert list((await session.execute(select(Post))).scalars()) == []
    with pytest.raises(NotFoundError):  # posting into a circle one is not in
        await _post(database, kv, "alice", visibility="circle", circle_id="nope")


async def test_media_and_mentions(database, kv):
    post = await _post(database, kv, "alice", media_ids=["m2", "m1"], mention_user_ids=["bob", "alice", "bob"])
    async with database.session() as session:
        media = await posts.media_ids(session=session, post_ids=[post.id])
        notes = list((await session.execute(select(Notification))).scalars())
    assert media == {post.id: ["m2", "m1"]}
    assert [(n.user_id, n.kind, n.subject_id) for n in notes] == [("bob", "mention", post.id)]


async def test_threaded_comments_and_counts(database, kv):
    post = await _post(database, kv, "alice")
    async with database.session() as session:
        top = await comments.add_comment(session=session, kv=kv, author_id="bob", post_id=post.id, text="first")
    async with database.session() as session:
        reply = await comments.add_comment(session=session, kv=kv, author_id="carol", post_id=post.id,
                                           text="reply", parent_id=top.id)
    async with database.session() as session:
        with pytest.raises(BadUserInputError):
            await comments.add_comment(session=session, kv=kv, author_id="carol", post_id=post.id,
                                       text="x", parent_id="missing")
    async with database.session() as session:
        roots = await comments.list_comments(session=session, viewer_id=None, post_id=post.id, parent_id=None, first=10)
        replies = await comments.list_comments(session=session, viewer_id=None, post_id=post.id, parent_id=top.id, first=10)
        fresh = await session.get(Post, post.id)
        notes = list((await session.execute(select(Notification).order_by(Notification.created_at))).scalars())
    assert [c.id for c in roots.items] == [top.id]
    assert roots.items[0].replies_count == 1
    assert [c.id for c in replies.items] == [reply.id]
    assert fresh.comments_count == 2
    # alice hears of both comments, bob of the reply to his comment.
    assert sorted((n.user_id, n.actor_id) for n in notes) == [("alice", "bob"), ("alice", "carol"), ("bob", "carol")]


async def test_reactions_count_once_per_user_and_raise_the_rank(database, kv):
    post = await _post(database, kv, "alice")
    before = post.hot_score
    async with database.session() as session:
        await reactions.react(session=session, kv=kv, user_id="bob", post_id=post.id, kind="like")
    async with database.session() as session:
        await reactions.react(session=session, kv=kv, user_id="bob", post_id=post.id, kind="love")
    async with database.session() as session:
        updated = await reactions.react(session=session, kv=kv, user_id="carol", post_id=post.id, kind="like")
    assert updated.reactions_count == 2 and updated.hot_score > before
    async with database.session() as session:
        mine = await reactions.my_reactions(session=session, user_id="bob", post_ids=[post.id])
    assert mine == {post.id: "love"}
    async with database.session() as session:
        with pytest.raises(BadUserInputError):
            await reactions.react(session=session, kv=kv, user_id="bob", post_id=post.id, kind="meh")
    for _ in range(2):
        async with database.session() as session:
            after = await reactions.unreact(session=session, kv=kv, user_id="bob", post_id=post.id)
    assert after.reactions_count == 1


async def test_reacting_to_an_invisible_post_is_not_found(database, kv):
    post = await _post(database, kv, "alice", visibility="followers")
    async with database.session() as session:
        with pytest.raises(NotFoundError):
            await reactions.react(session=session, kv=kv, user_id="mallory", post_id=post.id, kind="like")


async def test_delete_post_only_by_author_and_counts(database, kv):
    post = await _post(database, kv, "alice")
    async with database.session() as session:
        await comments.add_comment(session=session, kv=kv, author_id="bob", post_id=post.id, text="hi")
    async with database.session() as session:
        with pytest.raises(ForbiddenError):
            await posts.delete_post(session=session, kv=kv, user_id="bob", post_id=post.id)
    async with database.session() as session:
        assert await posts.delete_post(session=session, kv=kv, user_id="alice", post_id=post.id)
        stats = await follows.get_stats(session=session, user_ids=["alice"])
    assert stats["alice"].posts_count == 0
    assert not await _visible(database, "alice", post.id)


def test_hot_score_decays_with_time():
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 1, tzinfo=UTC)
    fresh = posts.hot_score(reactions=1, comments=0, created_at=now)
    day_old_popular = posts.hot_score(reactions=50, comments=0, created_at=now - timedelta(days=1))
    day_old_viral = posts.hot_score(reactions=500, comments=0, created_at=now - timedelta(days=1))
    assert day_old_popular < fresh < day_old_viral


async def test_deleting_a_comment_takes_its_thread_and_exact_counts(database, kv):
    post = await _post(database, kv, "alice")

    async def add(author, parent=None):
        async with database.session() as session:
            return await comments.add_comment(session=session, kv=kv, author_id=author, post_id=post.id,
                                              text="c", parent_id=parent)

    keep = await add("bob")
    root = await add("bob")
    reply = await add("carol", root.id)
    await add("dave", reply.id)
    await add("erin", root.id)
    async with database.session() as session:
        with pytest.raises(ForbiddenError):
            await comments.delete_comment(session=session, kv=kv, user_id="carol", comment_id=root.id)
    async with database.session() as session:
        assert await comments.delete_comment(session=session, kv=kv, user_id="carol", comment_id=reply.id) == 2
    async with database.session() as session:
        parent = await session.get(type(root), root.id)
        assert parent.replies_count == 1
        # The post's author may delete any comment on it.
        assert await comments.delete_comment(session=session, kv=kv, user_id="alice", comment_id=root.id) == 2
    async with database.session() as session:
        fresh = await session.get(Post, post.id)
        left = await comments.list_comments(session=session, viewer_id=None, post_id=post.id, parent_id=None, first=10)
        with pytest.raises(NotFoundError):
            await comments.delete_comment(session=session, kv=kv, user_id="alice", comment_id=root.id)
    assert fresh.comments_count == 1 and [c.id for c in left.items] == [keep.id]
