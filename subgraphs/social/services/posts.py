"""Posts: creation with media references and mentions, visibility rules, deletion, ranking."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ForbiddenError, NotFoundError
from shared.events import add_event
from shared.redis import KeyValue
from subgraphs.social.models import (
    Block,
    CircleMember,
    Comment,
    Follow,
    Post,
    PostMedia,
    Reaction,
    utcnow,
)
from subgraphs.social.services import feeds
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._validation import check_plain, check_ref_ids
from subgraphs.social.services.notifications import add_notification, publish_notifications

__all__ = [
    "MAX_MEDIA",
    "MAX_MENTIONS",
    "MAX_TEXT",
    "VISIBILITIES",
    "create_post",
    "delete_post",
    "delete_posts",
    "get_visible_post",
    "hot_score",
    "list_user_posts",
    "media_ids",
    "not_blocked_by_author",
    "rescore",
    "shown_clause",
    "visible_clause",
]

VISIBILITIES = ("public", "followers", "circle")
MAX_TEXT = 5000
MAX_MEDIA = 10
MAX_MENTIONS = 20
# Reddit-style "hot" rank: log10(engagement) + age bonus. Every 12.5 hours a post needs ten times
# the engagement to keep its place, i.e. exponential time decay, yet the score never changes once
# written, which is what makes keyset pagination over it stable.
_EPOCH = 1_700_000_000.0
_DECAY_SECONDS = 45_000.0


def hot_score(*, reactions: int, comments: int, created_at: datetime) -> float:
    engagement = reactions + 2 * comments
    return round(math.log10(max(engagement, 1)) + (created_at.timestamp() - _EPOCH) / _DECAY_SECONDS, 7)


def check_text(text: str, *, argument: str = "text") -> str:
    check_plain(text, argument=argument)
    if not text.strip():
        raise BadUserInputError("Text must not be empty", extensions={"argument": argument})
    if len(text) > MAX_TEXT:
        raise BadUserInputError(f"Text is longer than {MAX_TEXT} characters", extensions={"argument": argument})
    return text


def check_mentions(mention_ids: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(check_ref_ids(mention_ids, argument="mentionUserIds")))
    if len(unique) > MAX_MENTIONS:
        raise BadUserInputError(f"At most {MAX_MENTIONS} mentions", extensions={"argument": "mentionUserIds"})
    return unique


async def create_post(
    *,
    session: AsyncSession,
    kv: KeyValue,
    author_id: str,
    text: str,
    visibility: str,
    circle_id: str | None = None,
    media_ids: Sequence[str] = (),
    mention_user_ids: Sequence[str] = (),
    post_id: str | None = None,
    moderation_state: str = "visible",
) -> Post:
    """`moderation_state` is moderation's verdict ("held": only the author sees the post, and
    nobody is notified of it until a review)."""
    from subgraphs.social.services.blocks import require_not_blocked
    from subgraphs.social.services.circles import require_role
    from subgraphs.social.services.follows import adjust_stats

    check_text(text)
    if visibility not in VISIBILITIES:
        raise BadUserInputError("Unknown visibility", extensions={"argument": "visibility"})
    if (visibility == "circle") != (circle_id is not None):
        raise BadUserInputError(
            "circleId is required with CIRCLE visibility and only then", extensions={"argument": "circleId"}
        )
    if len(media_ids) > MAX_MEDIA or len(set(media_ids)) != len(media_ids):
        raise BadUserInputError(f"At most {MAX_MEDIA} distinct media", extensions={"argument": "mediaIds"})
    check_ref_ids(media_ids, argument="mediaIds")
    mentions = check_mentions(mention_user_ids)
    await require_not_blocked(session=session, actor_id=author_id, other_ids=mentions, argument="mentionUserIds")
    if circle_id is not None:
        await require_role(session=session, user_id=author_id, circle_id=circle_id)
    now = utcnow()
    post = Post(
        **({"id": post_id} if post_id is not None else {}),
        moderation_state=moderation_state,
        author_id=author_id,
        text=text,
        visibility=visibility,
        circle_id=circle_id,
        created_at=now,
        hot_score=hot_score(reactions=0, comments=0, created_at=now),
    )
    session.add(post)
    await session.flush()
    for position, media_id in enumerate(media_ids):
        session.add(PostMedia(post_id=post.id, position=position, media_id=media_id))
    await adjust_stats(session, {author_id: {"posts_count": 1}})
    notices = [
        await add_notification(session, user_id=u, kind="mention", actor_id=author_id, subject_id=post.id)
        for u in (mentions if moderation_state == "visible" else [])
    ]
    audience = await _audience(session, post)
    # For moderation and search: published by the outbox relay only if this transaction commits.
    await add_event(
        session,
        topic="social.post_created",
        key=post.id,
        payload={
            "postId": post.id, "authorId": author_id, "text": text, "visibility": visibility,
            "circleId": circle_id, "mediaIds": list(media_ids), "createdAt": now.isoformat(),
            "moderationState": moderation_state,
        },
    )
    await session.commit()
    await feeds.invalidate_for_post(kv, post=post, audience=audience)
    await publish_notifications(kv, notices)
    return post


async def _audience(session: AsyncSession, post: Post) -> list[str]:
    """Users whose home feed shows `post`: the author plus followers or circle members."""
    if post.circle_id is not None:
        query = select(CircleMember.user_id).where(CircleMember.circle_id == post.circle_id)
    else:
        query = select(Follow.follower_id).where(Follow.followee_id == post.author_id)
    return [post.author_id, *(await session.execute(query)).scalars()]


async def delete_posts(session: AsyncSession, post_ids: Sequence[str]) -> None:
    """Delete posts and what hangs off them, inside the caller's transaction."""
    if not post_ids:
        return
    from subgraphs.social.services.follows import adjust_stats

    authors: dict[str, dict[str, int]] = {}
    for author_id in (await session.execute(select(Post.author_id).where(Post.id.in_(post_ids)))).scalars():  # type: ignore[attr-defined]
        authors.setdefault(author_id, {"posts_count": 0})["posts_count"] -= 1
    for model in (Reaction, PostMedia):
        await session.execute(delete(model).where(model.post_id.in_(post_ids)))  # type: ignore[attr-defined]
    # Replies reference their parent; clear the links first so the delete order does not matter.
    await session.execute(update(Comment).where(Comment.post_id.in_(post_ids)).values(parent_id=None))  # type: ignore[attr-defined]
    await session.execute(delete(Comment).where(Comment.post_id.in_(post_ids)))  # type: ignore[attr-defined]
    await session.execute(delete(Post).where(Post.id.in_(post_ids)))  # type: ignore[attr-defined]
    await adjust_stats(session, authors)


async def delete_post(*, session: AsyncSession, kv: KeyValue, user_id: str, post_id: str) -> bool:
    post = await session.get(Post, post_id)
    if post is None:
        raise NotFoundError("Post not found", extensions={"postId": post_id})
    if post.author_id != user_id:
        raise ForbiddenError("Only the author can delete a post")
    audience = await _audience(session, post)
    await delete_posts(session, [post_id])
    await session.commit()
    await feeds.invalidate_for_post(kv, post=post, audience=audience)
    return True


def shown_clause() -> Any:
    """SQL condition: moderation lets everyone the post's visibility allows see it."""
    return Post.moderation_state == "visible"


def visible_clause(viewer_id: str | None) -> Any:
    """SQL condition: the viewer may read the post row (its author always may)."""
    public = Post.visibility == "public"
    if viewer_id is None:
        return and_(public, shown_clause())
    follows = exists().where(Follow.follower_id == viewer_id, Follow.followee_id == Post.author_id)
    member = exists().where(CircleMember.user_id == viewer_id, CircleMember.circle_id == Post.circle_id)
    return or_(
        Post.author_id == viewer_id,
        and_(shown_clause(), or_(
            public,
            and_(Post.visibility == "followers", follows, not_blocked_by_author(viewer_id)),
            and_(Post.visibility == "circle", member, not_blocked_by_author(viewer_id)),
        )),
    )


def not_blocked_by_author(viewer_id: str) -> Any:
    """SQL condition: the post's author has not blocked the viewer."""
    return ~exists().where(Block.blocker_id == Post.author_id, Block.blocked_id == viewer_id)


async def get_visible_post(*, session: AsyncSession, viewer_id: str | None, post_id: str) -> Post:
    """The post if the viewer may read it; otherwise NOT_FOUND (existence is not disclosed)."""
    query = select(Post).where(Post.id == post_id, visible_clause(viewer_id))
    post = (await session.execute(query)).scalar_one_or_none()
    if post is None:
        raise NotFoundError("Post not found", extensions={"postId": post_id})
    return post


async def list_user_posts(
    *, session: AsyncSession, viewer_id: str | None, author_id: str, first: int, after: str | None = None
) -> Page[Post]:
    query = select(Post).where(Post.author_id == author_id, visible_clause(viewer_id))
    return await page_by_recency(session, query, "user_posts", first, after)


async def page_by_recency(session: AsyncSession, query: Any, kind: str, first: int, after: str | None) -> Page[Post]:
    if after is not None:
        created_at, post_id = decode_cursor(kind, after, (datetime, str))
        query = query.where(keyset_after([Post.created_at, Post.id], [created_at, post_id], descending=True))
    query = query.order_by(Post.created_at.desc(), Post.id.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = list((await session.execute(query)).scalars())
    items = rows[:first]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor(kind, p.created_at, p.id) for p in items),
        has_next_page=len(rows) > first,
    )


async def media_ids(*, session: AsyncSession, post_ids: Sequence[str]) -> dict[str, list[str]]:
    query = select(PostMedia).where(PostMedia.post_id.in_(post_ids)).order_by(PostMedia.post_id, PostMedia.position)  # type: ignore[attr-defined]
    result: dict[str, list[str]] = {p: [] for p in post_ids}
    for row in (await session.execute(query)).scalars():
        result[row.post_id].append(row.media_id)
    return result


async def rescore(session: AsyncSession, post_id: str, *, reactions: int = 0, comments: int = 0) -> Post:
    """Apply engagement deltas and recompute the rank. The UPDATE takes the row lock first, so the
    counts read back are this transaction's own and concurrent writers cannot interleave."""
    await session.execute(
        update(Post)
        .where(Post.id == post_id)
        .values(
            reactions_count=Post.reactions_count + reactions,
            comments_count=Post.comments_count + comments,
        )
    )
    post = (
        await session.execute(select(Post).where(Post.id == post_id).execution_options(populate_existing=True))
    ).scalar_one()
    post.hot_score = hot_score(
        reactions=post.reactions_count, comments=post.comments_count, created_at=post.created_at
    )
    await session.flush()
    return post
