"""Reactions: one per user and post, its kind changeable; counts kept on the post row."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError
from shared.redis import KeyValue
from subgraphs.social.models import Post, Reaction
from subgraphs.social.services import feeds
from subgraphs.social.services.notifications import add_notification, publish_notifications
from subgraphs.social.services.posts import get_visible_post, rescore

__all__ = ["REACTION_KINDS", "my_reactions", "react", "unreact"]

REACTION_KINDS = ("like", "love", "laugh", "wow", "sad", "angry")


async def react(*, session: AsyncSession, kv: KeyValue, user_id: str, post_id: str, kind: str) -> Post:
    if kind not in REACTION_KINDS:
        raise BadUserInputError("Unknown reaction kind", extensions={"argument": "kind"})
    post = await get_visible_post(session=session, viewer_id=user_id, post_id=post_id)
    try:
        async with session.begin_nested():
            session.add(Reaction(post_id=post_id, user_id=user_id, kind=kind))
            await session.flush()
    except IntegrityError:
        # Already reacted: only the kind changes, the count does not.
        await session.execute(
            update(Reaction).where(Reaction.post_id == post_id, Reaction.user_id == user_id).values(kind=kind)
        )
        await session.commit()
        return post
    post = await rescore(session, post_id, reactions=1)
    notice = await add_notification(
        session, user_id=post.author_id, kind="reaction", actor_id=user_id, subject_id=post_id,
        data={"kind": kind},
    )
    await session.commit()
    await feeds.invalidate_engagement(kv, post=post)
    await publish_notifications(kv, [notice])
    return post


async def unreact(*, session: AsyncSession, kv: KeyValue, user_id: str, post_id: str) -> Post:
    post = await get_visible_post(session=session, viewer_id=user_id, post_id=post_id)
    result = await session.execute(
        delete(Reaction).where(Reaction.post_id == post_id, Reaction.user_id == user_id)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return post  # nothing to undo; the session's close ends the empty transaction
    post = await rescore(session, post_id, reactions=-1)
    await session.commit()
    await feeds.invalidate_engagement(kv, post=post)
    return post


async def my_reactions(*, session: AsyncSession, user_id: str, post_ids: Sequence[str]) -> dict[str, str]:
    query = select(Reaction.post_id, Reaction.kind).where(
        Reaction.user_id == user_id, Reaction.post_id.in_(post_ids)  # type: ignore[attr-defined]
    )
    return {p: k for p, k in (await session.execute(query)).all()}
