"""Blocks: who may not reach whom, and the follows and requests a block ends.

A block stops the blocked user from following, messaging, mentioning, tipping or seeing the
blocker's non-public content, and the blocker from doing the same to them. Only the blocker ever
learns of a block: the blocked user is told "not allowed" (reason NOT_ALLOWED), the blocker is
told to unblock first (reason BLOCKED).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ForbiddenError
from shared.redis import KeyValue
from subgraphs.social.models import (
    Block,
    Conversation,
    ConversationMember,
    FollowRequest,
    Message,
)
from subgraphs.social.services import feeds
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._validation import check_ref_ids

__all__ = [
    "BlockEdge",
    "block",
    "blocked_by_me",
    "blockers_among",
    "is_blocked_between",
    "list_blocked",
    "require_not_blocked",
    "unblock",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class BlockEdge:
    user_id: str
    blocked_at: datetime


async def _blocks_between(session: AsyncSession, actor_id: str, other_ids: Sequence[str]) -> list[Block]:
    query = select(Block).where(or_(
        and_(Block.blocker_id == actor_id, Block.blocked_id.in_(other_ids)),  # type: ignore[attr-defined]
        and_(Block.blocked_id == actor_id, Block.blocker_id.in_(other_ids)),  # type: ignore[attr-defined]
    ))
    return list((await session.execute(query)).scalars())


async def is_blocked_between(*, session: AsyncSession, user_id: str, other_id: str) -> bool:
    """Whether either of the two blocked the other."""
    return bool(await _blocks_between(session, user_id, [other_id]))


async def require_not_blocked(
    *, session: AsyncSession, actor_id: str, other_ids: Sequence[str], argument: str
) -> None:
    """FORBIDDEN if `actor_id` and any of `other_ids` blocked one another (either way)."""
    if not other_ids:
        return
    found = await _blocks_between(session, actor_id, list(dict.fromkeys(other_ids)))
    if any(b.blocker_id == actor_id for b in found):
        raise ForbiddenError("You blocked this user; unblock them first",
                             extensions={"reason": "BLOCKED", "argument": argument})
    if found:
        raise ForbiddenError("Not allowed", extensions={"reason": "NOT_ALLOWED", "argument": argument})


async def blockers_among(*, session: AsyncSession, viewer_id: str, author_ids: Sequence[str]) -> set[str]:
    """Which of `author_ids` blocked `viewer_id` (their non-public content is hidden from it)."""
    if not author_ids:
        return set()
    query = select(Block.blocker_id).where(
        Block.blocked_id == viewer_id, Block.blocker_id.in_(list(set(author_ids)))  # type: ignore[attr-defined]
    )
    return set((await session.execute(query)).scalars())


async def blocked_by_me(*, session: AsyncSession, blocker_id: str, candidates: Sequence[str]) -> set[str]:
    """Which of `candidates` the blocker blocked (for the blocker's own `isBlockedByMe`)."""
    query = select(Block.blocked_id).where(
        Block.blocker_id == blocker_id, Block.blocked_id.in_(candidates)  # type: ignore[attr-defined]
    )
    return set((await session.execute(query)).scalars())


async def block(*, session: AsyncSession, kv: KeyValue, blocker_id: str, blocked_id: str) -> bool:
    """Block `blocked_id`; True if this created the block. In the same transaction: follows both
    ways and follow requests both ways go, and so do pending message requests and group
    invitations the blocked user sent the blocker."""
    from subgraphs.social.services.follows import remove_follow

    check_ref_ids([blocked_id], argument="userId")
    if blocker_id == blocked_id:
        raise BadUserInputError("You cannot block yourself", extensions={"argument": "userId"})
    try:
        async with session.begin_nested():
            session.add(Block(blocker_id=blocker_id, blocked_id=blocked_id))
            await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    # Fixed order (by id) so two users blocking each other at once lock rows alike.
    for follower, followee in sorted([(blocker_id, blocked_id), (blocked_id, blocker_id)]):
        await remove_follow(session, follower_id=follower, followee_id=followee)
    await session.execute(delete(FollowRequest).where(or_(
        and_(FollowRequest.requester_id == blocker_id, FollowRequest.target_id == blocked_id),
        and_(FollowRequest.requester_id == blocked_id, FollowRequest.target_id == blocker_id),
    )))
    await _drop_pending_from(session, user_id=blocker_id, sender_id=blocked_id)
    await session.commit()
    await feeds.invalidate_home(kv, [blocker_id, blocked_id])
    return True


async def _drop_pending_from(session: AsyncSession, *, user_id: str, sender_id: str) -> None:
    """The blocker's unanswered message request from the blocked user goes (with its messages);
    so do the blocker's group invitations sent by the blocked user."""
    key = "|".join(sorted((user_id, sender_id)))
    direct = (await session.execute(select(Conversation.id).join(
        ConversationMember, ConversationMember.conversation_id == Conversation.id
    ).where(Conversation.direct_key == key, ConversationMember.user_id == user_id,
            ConversationMember.status == "requested"))).scalar_one_or_none()
    if direct is not None:
        for model in (Message, ConversationMember):
            await session.execute(delete(model).where(model.conversation_id == direct))  # type: ignore[arg-type]
        await session.execute(delete(Conversation).where(Conversation.id == direct))  # type: ignore[arg-type]
    await session.execute(delete(ConversationMember).where(
        ConversationMember.user_id == user_id, ConversationMember.status == "invited",  # type: ignore[arg-type]
        ConversationMember.invited_by == sender_id,  # type: ignore[arg-type]
    ))


async def unblock(*, session: AsyncSession, kv: KeyValue, blocker_id: str, blocked_id: str) -> bool:
    """Lift a block; the follows it ended stay ended."""
    result = await session.execute(delete(Block).where(
        Block.blocker_id == blocker_id, Block.blocked_id == blocked_id  # type: ignore[arg-type]
    ))
    await session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await feeds.invalidate_home(kv, [blocker_id, blocked_id])
    return True


async def list_blocked(
    *, session: AsyncSession, blocker_id: str, first: int, after: str | None = None
) -> Page[BlockEdge]:
    """The users the blocker blocked, most recent first (the blocker's own list only)."""
    query = select(Block.blocked_id, Block.created_at).where(Block.blocker_id == blocker_id)
    if after is not None:
        created_at, other = decode_cursor("blocks", after, (datetime, str))
        query = query.where(keyset_after([Block.created_at, Block.blocked_id], [created_at, other], descending=True))
    query = query.order_by(Block.created_at.desc(), Block.blocked_id.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = (await session.execute(query)).all()
    items = [BlockEdge(user_id=r[0], blocked_at=r[1]) for r in rows[:first]]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor("blocks", e.blocked_at, e.user_id) for e in items),
        has_next_page=len(rows) > first,
    )
