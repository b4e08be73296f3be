"""Threaded comments on posts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ForbiddenError, NotFoundError
from shared.redis import KeyValue
from subgraphs.social.models import Comment
from subgraphs.social.services import feeds
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services.blocks import require_not_blocked
from subgraphs.social.services.notifications import add_notification, publish_notifications
from subgraphs.social.services.posts import check_mentions, check_text, get_visible_post, rescore

__all__ = ["add_comment", "delete_comment", "get_comments", "list_comments"]


async def add_comment(
    *,
    session: AsyncSession,
    kv: KeyValue,
    author_id: str,
    post_id: str,
    text: str,
    parent_id: str | None = None,
    mention_user_ids: Sequence[str] = (),
    comment_id: str | None = None,
    moderation_state: str = "visible",
) -> Comment:
    """A "held" `moderation_state` shows the comment to its author only, and notifies nobody."""
    check_text(text)
    mentions = check_mentions(mention_user_ids)
    post = await get_visible_post(session=session, viewer_id=author_id, post_id=post_id)
    # Replying to or mentioning someone across a block reaches them: refused either way.
    await require_not_blocked(session=session, actor_id=author_id,
                              other_ids=[u for u in (post.author_id, *mentions) if u != author_id],
                              argument="mentionUserIds" if mentions else "postId")
    parent = None
    if parent_id is not None:
        parent = await session.get(Comment, parent_id)
        if parent is None or parent.post_id != post_id:
            raise BadUserInputError("Parent comment not found on this post", extensions={"argument": "parentId"})
        await session.execute(
            update(Comment).where(Comment.id == parent_id).values(replies_count=Comment.replies_count + 1)
        )
    comment = Comment(**({"id": comment_id} if comment_id is not None else {}),
                      moderation_state=moderation_state, post_id=post_id, parent_id=parent_id,
                      author_id=author_id, text=text)
    session.add(comment)
    await rescore(session, post_id, comments=1)
    recipients = {post.author_id}
    if parent is not None:
        recipients.add(parent.author_id)
    if moderation_state != "visible":
        recipients, mentions = set(), []
    notices = [
        await add_notification(
            session, user_id=u, kind="comment", actor_id=author_id, subject_id=comment.id,
            data={"postId": post_id},
        )
        for u in sorted(recipients)
    ]
    notices += [
        await add_notification(
            session, user_id=u, kind="mention", actor_id=author_id, subject_id=comment.id,
            data={"postId": post_id},
        )
        for u in mentions
        if u not in recipients
    ]
    await session.commit()
    await feeds.invalidate_engagement(kv, post=post)
    await publish_notifications(kv, notices)
    return comment


async def list_comments(
    *,
    session: AsyncSession,
    viewer_id: str | None,
    post_id: str,
    parent_id: str | None,
    first: int,
    after: str | None = None,
) -> Page[Comment]:
    """One level of a thread, oldest first: top-level comments, or the replies to `parent_id`."""
    await get_visible_post(session=session, viewer_id=viewer_id, post_id=post_id)
    shown = Comment.moderation_state == "visible"
    query = select(Comment).where(
        Comment.post_id == post_id,
        shown if viewer_id is None else or_(shown, Comment.author_id == viewer_id),
        Comment.parent_id.is_(None) if parent_id is None else Comment.parent_id == parent_id,  # type: ignore[union-attr]
    )
    if after is not None:
        created_at, comment_id = decode_cursor("comments", after, (datetime, str))
        query = query.where(
            keyset_after([Comment.created_at, Comment.id], [created_at, comment_id], descending=False)
        )
    query = query.order_by(Comment.created_at, Comment.id).limit(first + 1)
    rows = list((await session.execute(query)).scalars())
    items = rows[:first]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor("comments", c.created_at, c.id) for c in items),
        has_next_page=len(rows) > first,
    )


async def get_comments(*, session: AsyncSession, comment_ids: Sequence[str]) -> dict[str, Comment]:
    rows = (await session.execute(select(Comment).where(Comment.id.in_(comment_ids)))).scalars()  # type: ignore[attr-defined]
    return {c.id: c for c in rows}




async def delete_comment(*, session: AsyncSession, kv: KeyValue, user_id: str, comment_id: str) -> int:
    """Delete a comment and its whole reply thread (by its author or the post's author);
    returns how many comments went, and takes exactly that many off the post's count."""
    from subgraphs.social.models import Post

    comment = await session.get(Comment, comment_id)
    if comment is None:
        raise NotFoundError("Comment not found", extensions={"commentId": comment_id})
    post = await session.get(Post, comment.post_id)
    assert post is not None
    if user_id not in (comment.author_id, post.author_id):
        raise ForbiddenError("Only the comment's or the post's author can delete it")
    parent_id, post_id = comment.parent_id, comment.post_id  # the bulk updates below rewrite them
    doomed, frontier = [comment_id], [comment_id]
    while frontier:
        frontier = list((await session.execute(
            select(Comment.id).where(Comment.parent_id.in_(frontier))  # type: ignore[union-attr]
        )).scalars())
        doomed += frontier
    # Children first, so no row ever points at a deleted parent.
    for chunk in reversed([doomed[i:i + 500] for i in range(0, len(doomed), 500)]):
        await session.execute(update(Comment).where(Comment.id.in_(chunk)).values(parent_id=None))  # type: ignore[attr-defined]
    await session.execute(delete(Comment).where(Comment.id.in_(doomed)))  # type: ignore[attr-defined]
    if parent_id is not None:
        await session.execute(
            update(Comment).where(Comment.id == parent_id).values(replies_count=Comment.replies_count - 1)
        )
    post = await rescore(session, post_id, comments=-len(doomed))
    await session.commit()
    await feeds.invalidate_engagement(kv, post=post)
    return len(doomed)
