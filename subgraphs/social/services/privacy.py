"""Privacy settings (private accounts, group adds) and the follow requests of private accounts.

A private account is followed only through a request its owner approves, so its followers are
exactly the people it approved (plus those who already followed when it went private, whom the
owner keeps until `remove_follower`). FOLLOWERS-only posts of a private account therefore reach
approved followers only. On a public account FOLLOWERS stays "anyone who follows": anyone may
follow it without approval, which is what making the account public means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import NotFoundError
from shared.redis import KeyValue
from subgraphs.social.models import FollowRequest, PrivacySettings, utcnow
from subgraphs.social.services import feeds
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._validation import check_ref_ids
from subgraphs.social.services.follows import add_follow, remove_follow
from subgraphs.social.services.notifications import add_notification, publish_notifications

__all__ = [
    "RequestEdge",
    "approve_request",
    "decline_request",
    "get_settings",
    "list_requests",
    "private_ids",
    "remove_follower",
    "requested_by",
    "update_settings",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestEdge:
    user_id: str
    requested_at: datetime


async def get_settings(*, session: AsyncSession, user_id: str) -> PrivacySettings:
    """The user's settings; the defaults (public, adds from followed people) without a row."""
    return await session.get(PrivacySettings, user_id) or PrivacySettings(user_id=user_id)


async def private_ids(*, session: AsyncSession, user_ids: list[str]) -> set[str]:
    query = select(PrivacySettings.user_id).where(
        PrivacySettings.user_id.in_(user_ids), PrivacySettings.is_private.is_(True)  # type: ignore[attr-defined]
    )
    return set((await session.execute(query)).scalars())


async def update_settings(
    *, session: AsyncSession, kv: KeyValue, user_id: str, is_private: bool | None = None,
    allow_group_adds_from_following: bool | None = None,
) -> PrivacySettings:
    """Change the given settings. Going public approves every pending follow request."""
    row = await session.get(PrivacySettings, user_id)
    if row is None:
        row = PrivacySettings(user_id=user_id)
        session.add(row)
    if is_private is not None:
        row.is_private = is_private
    if allow_group_adds_from_following is not None:
        row.allow_group_adds_from_following = allow_group_adds_from_following
    row.updated_at = utcnow()
    approved: list[str] = []
    if is_private is False:
        pending = await session.execute(select(FollowRequest.requester_id).where(FollowRequest.target_id == user_id))
        approved = list(pending.scalars())
        await session.execute(delete(FollowRequest).where(FollowRequest.target_id == user_id))  # type: ignore[arg-type]
        for requester in sorted(approved):
            await add_follow(session, follower_id=requester, followee_id=user_id)
    await session.commit()
    await feeds.invalidate_home(kv, approved)
    return row


async def _take_request(session: AsyncSession, *, owner_id: str, requester_id: str) -> bool:
    result = await session.execute(delete(FollowRequest).where(
        FollowRequest.target_id == owner_id, FollowRequest.requester_id == requester_id  # type: ignore[arg-type]
    ))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def approve_request(*, session: AsyncSession, kv: KeyValue, owner_id: str, requester_id: str) -> None:
    """The requester now follows the owner; NOT_FOUND when no such request is pending."""
    check_ref_ids([requester_id], argument="userId")
    if not await _take_request(session, owner_id=owner_id, requester_id=requester_id):
        await session.rollback()
        raise NotFoundError("No pending follow request from this user", extensions={"argument": "userId"})
    await add_follow(session, follower_id=requester_id, followee_id=owner_id)
    notice = await add_notification(
        session, user_id=requester_id, kind="follow_accepted", actor_id=owner_id, subject_id=owner_id
    )
    await session.commit()
    await feeds.invalidate_home(kv, [requester_id])
    await publish_notifications(kv, [notice])


async def decline_request(*, session: AsyncSession, owner_id: str, requester_id: str) -> bool:
    """Drop a pending request (the requester is not told); True if one was pending."""
    taken = await _take_request(session, owner_id=owner_id, requester_id=requester_id)
    await session.commit()
    return taken


async def remove_follower(*, session: AsyncSession, kv: KeyValue, owner_id: str, follower_id: str) -> bool:
    """The owner ends someone's follow of them; True if there was one."""
    removed = await remove_follow(session, follower_id=follower_id, followee_id=owner_id)
    await session.commit()
    if removed:
        await feeds.invalidate_home(kv, [follower_id])
    return removed


async def requested_by(*, session: AsyncSession, requester_id: str, candidates: list[str]) -> set[str]:
    """Which of `candidates` have a pending follow request from `requester_id`."""
    query = select(FollowRequest.target_id).where(
        FollowRequest.requester_id == requester_id, FollowRequest.target_id.in_(candidates)  # type: ignore[attr-defined]
    )
    return set((await session.execute(query)).scalars())


async def list_requests(
    *, session: AsyncSession, owner_id: str, first: int, after: str | None = None
) -> Page[RequestEdge]:
    """Pending follow requests to the owner, newest first."""
    query = select(FollowRequest.requester_id, FollowRequest.created_at).where(FollowRequest.target_id == owner_id)
    if after is not None:
        created_at, other = decode_cursor("follow_requests", after, (datetime, str))
        query = query.where(keyset_after([FollowRequest.created_at, FollowRequest.requester_id],
                                         [created_at, other], descending=True))
    query = query.order_by(FollowRequest.created_at.desc(), FollowRequest.requester_id.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = (await session.execute(query)).all()
    items = [RequestEdge(user_id=r[0], requested_at=r[1]) for r in rows[:first]]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor("follow_requests", e.requested_at, e.user_id) for e in items),
        has_next_page=len(rows) > first,
    )
