"""Conversations: membership, direct idempotence, messages, read receipts, published events."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from shared.errors import BadUserInputError, ForbiddenError
from subgraphs.social.services import conversations, follows, realtime


async def _call(database, fn, **kwargs):
    async with database.session() as session:
        return await fn(session=session, **kwargs)


async def _group(database, kv, creator: str, *members: str, **kwargs):
    """A group whose members join at once: each follows the creator first (see test_consent.py
    for invitations)."""
    for member in members:
        await _call(database, follows.follow, kv=kv, follower_id=member, followee_id=creator)
    return await _call(database, conversations.create_group, creator_id=creator, member_ids=list(members), **kwargs)


async def test_direct_conversation_is_unique_per_pair(database, kv):
    first = await _call(database, conversations.open_direct, user_id="a", other_id="b")
    again = await _call(database, conversations.open_direct, user_id="b", other_id="a")
    assert first.id == again.id and first.kind == "direct"
    racing = await asyncio.gather(*[_call(database, conversations.open_direct, user_id="c", other_id="d") for _ in range(5)])
    assert len({c.id for c in racing}) == 1
    with pytest.raises(BadUserInputError):
        await _call(database, conversations.open_direct, user_id="a", other_id="a")


async def test_only_members_read_and_write(database, kv):
    group = await _call(database, conversations.create_group, creator_id="a", member_ids=["b", "c"], title="trip")
    with pytest.raises(ForbiddenError) as refused:
        await _call(database, conversations.send_message, kv=kv, sender_id="mallory", conversation_id=group.id, text="hi")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(ForbiddenError):
        await _call(database, conversations.list_messages, viewer_id="mallory", conversation_id=group.id, first=5)
    with pytest.raises(ForbiddenError):  # unknown ids look the same as foreign ones
        await _call(database, conversations.list_messages, viewer_id="a", conversation_id="nope", first=5)


async def test_messages_receipts_and_unread(database, kv):
    group = await _group(database, kv, "a", "b")
    async with kv.subscribe(realtime.conversation_channel(group.id)) as stream:
        sent = []
        for i in range(5):
            sent.append(await _call(database, conversations.send_message, kv=kv, sender_id="a",
                                    conversation_id=group.id, text=f"m{i}"))
        published = [orjson.loads((await anext(stream))[1]) for _ in range(5)]
    assert [p["id"] for p in published] == [m.id for m in sent]
    assert published[0]["senderId"] == "a" and published[0]["text"] == "m0"
    page = await _call(database, conversations.list_messages, viewer_id="b", conversation_id=group.id, first=3)
    assert [m.text for m in page.items] == ["m4", "m3", "m2"] and page.has_next_page
    older = await _call(database, conversations.list_messages, viewer_id="b", conversation_id=group.id, first=3,
                        after=page.end_cursor)
    assert [m.text for m in older.items] == ["m1", "m0"] and not older.has_next_page
    member_b = await _call(database, conversations.require_member, conversation_id=group.id, user_id="b")
    assert await _call(database, conversations.unread_count, member=member_b) == 5
    await _call(database, conversations.mark_read, user_id="b", conversation_id=group.id, message_id=sent[2].id)
    await _call(database, conversations.mark_read, user_id="b", conversation_id=group.id, message_id=sent[0].id)  # never backwards
    member_b = await _call(database, conversations.require_member, conversation_id=group.id, user_id="b")
    assert member_b.last_read_message_id == sent[2].id
    assert await _call(database, conversations.unread_count, member=member_b) == 2
    member_a = await _call(database, conversations.require_member, conversation_id=group.id, user_id="a")
    assert await _call(database, conversations.unread_count, member=member_a) == 0
    listing = await _call(database, conversations.list_conversations, user_id="b", first=10)
    assert [c.id for c in listing.items] == [group.id]


async def test_message_notifications_coalesce_per_conversation_until_read(database, kv):
    from sqlalchemy import select

    from subgraphs.social.models import Notification
    from subgraphs.social.services import notifications

    group = await _group(database, kv, "a", "b", "c")
    for i in range(3):
        await _call(database, conversations.send_message, kv=kv, sender_id="a", conversation_id=group.id, text=f"m{i}")
    async with database.session() as session:
        rows = list((await session.execute(
            select(Notification).where(Notification.kind == "message").order_by(Notification.user_id))).scalars())
    assert [(n.user_id, n.kind, n.subject_id) for n in rows] == [("b", "message", group.id), ("c", "message", group.id)]
    await _call(database, notifications.mark_notifications_read, user_id="b")
    await _call(database, conversations.send_message, kv=kv, sender_id="a", conversation_id=group.id, text="again")
    page = await _call(database, notifications.list_notifications, user_id="b", first=10, unread_only=True)
    assert [n.kind for n in page.items] == ["message"]
    page = await _call(database, notifications.list_notifications, user_id="c", first=10)
    assert [n.kind for n in page.items] == ["message"]
