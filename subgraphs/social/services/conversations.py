"""Conversations (direct and group), messages and read receipts; only members may read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ForbiddenError
from shared.redis import KeyValue
from subgraphs.social.models import Conversation, ConversationMember, Message, Notification, utcnow
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._validation import check_plain, check_ref_ids
from subgraphs.social.services.notifications import add_notification, publish_notifications
from subgraphs.social.services.posts import check_text
from subgraphs.social.services.realtime import conversation_channel, publish

__all__ = [
    "MAX_GROUP_MEMBERS",
    "add_members",
    "create_group",
    "leave",
    "list_conversations",
    "list_members",
    "list_messages",
    "mark_read",
    "message_payload",
    "open_direct",
    "require_member",
    "send_message",
    "unread_count",
]

MAX_GROUP_MEMBERS = 256


async def require_member(*, session: AsyncSession, conversation_id: str, user_id: str) -> ConversationMember:
    """The caller's membership, or FORBIDDEN (also for unknown ids, so existence is not disclosed)."""
    member = await session.get(ConversationMember, (conversation_id, user_id))
    if member is None:
        raise ForbiddenError(
            "Not a member of this conversation", extensions={"conversationId": conversation_id}
        )
    return member


async def create_group(
    *, session: AsyncSession, creator_id: str, member_ids: Sequence[str], title: str | None = None
) -> Conversation:
    members = list(dict.fromkeys([creator_id, *check_ref_ids(member_ids, argument="memberIds")]))
    if len(members) < 2:
        raise BadUserInputError("A group needs at least one other member", extensions={"argument": "memberIds"})
    if len(members) > MAX_GROUP_MEMBERS:
        raise BadUserInputError(f"At most {MAX_GROUP_MEMBERS} members", extensions={"argument": "memberIds"})
    if title is not None and len(check_plain(title, argument="title")) > 200:
        raise BadUserInputError("Title is longer than 200 characters", extensions={"argument": "title"})
    conversation = Conversation(kind="group", title=title)
    session.add(conversation)
    await session.flush()
    session.add_all(ConversationMember(conversation_id=conversation.id, user_id=u) for u in members)
    await session.commit()
    return conversation


async def open_direct(*, session: AsyncSession, user_id: str, other_id: str) -> Conversation:
    """The one direct conversation between two users, created on first use (race-safe)."""
    check_ref_ids([other_id], argument="userId")
    if user_id == other_id:
        raise BadUserInputError("A direct conversation needs another user", extensions={"argument": "userId"})
    key = "|".join(sorted((user_id, other_id)))
    existing = (await session.execute(select(Conversation).where(Conversation.direct_key == key))).scalar_one_or_none()
    if existing is not None:
        return existing
    try:
        async with session.begin_nested():
            conversation = Conversation(kind="direct", direct_key=key)
            session.add(conversation)
            await session.flush()
            session.add_all(
                ConversationMember(conversation_id=conversation.id, user_id=u) for u in (user_id, other_id)
            )
            await session.flush()
    except IntegrityError:
        await session.rollback()
        return (await session.execute(select(Conversation).where(Conversation.direct_key == key))).scalar_one()
    await session.commit()
    return conversation


async def add_members(
    *, session: AsyncSession, actor_id: str, conversation_id: str, user_ids: Sequence[str]
) -> Conversation:
    check_ref_ids(user_ids, argument="userIds")
    await require_member(session=session, conversation_id=conversation_id, user_id=actor_id)
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    if conversation.kind != "group":
        raise BadUserInputError("Members can only be added to group conversations")
    from subgraphs.social.services._sql import insert_ignore

    await insert_ignore(
        session, ConversationMember,
        [{"conversation_id": conversation_id, "user_id": u, "joined_at": utcnow()} for u in dict.fromkeys(user_ids)],
    )
    count = (await session.execute(
        select(func.count()).select_from(ConversationMember).where(ConversationMember.conversation_id == conversation_id)
    )).scalar_one()
    if count > MAX_GROUP_MEMBERS:
        await session.rollback()
        raise BadUserInputError(f"At most {MAX_GROUP_MEMBERS} members", extensions={"argument": "userIds"})
    await session.commit()
    return conversation


async def leave(*, session: AsyncSession, user_id: str, conversation_id: str) -> bool:
    member = await require_member(session=session, conversation_id=conversation_id, user_id=user_id)
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    if conversation.kind != "group":
        raise BadUserInputError("You cannot leave a direct conversation")
    await session.delete(member)
    await session.commit()
    return True


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversationId": message.conversation_id,
        "senderId": message.sender_id,
        "text": message.text,
        "createdAt": message.created_at.isoformat(),
    }


async def send_message(
    *, session: AsyncSession, kv: KeyValue, sender_id: str, conversation_id: str, text: str
) -> Message:
    """Store a message, move the sender's read marker to it, notify the other members, and
    publish it on the conversation channel (after commit) for every replica's subscribers."""
    check_text(text)
    sender = await require_member(session=session, conversation_id=conversation_id, user_id=sender_id)
    now = utcnow()
    message = Message(conversation_id=conversation_id, sender_id=sender_id, text=text, created_at=now)
    session.add(message)
    await session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(last_message_at=now)
    )
    sender.last_read_message_id = message.id
    sender.last_read_at = now
    notices = [
        await add_notification(
            session, user_id=u, kind="message", actor_id=sender_id, subject_id=conversation_id,
            data={"conversationId": conversation_id, "messageId": message.id},
        )
        for u in await _members_to_notify(session, conversation_id, sender_id)
    ]
    await session.commit()
    await publish(kv, conversation_channel(conversation_id), message_payload(message))
    await publish_notifications(kv, notices)
    return message


async def _members_to_notify(session: AsyncSession, conversation_id: str, sender_id: str) -> list[str]:
    """Other members without an unread message notification for this conversation: a burst of
    messages makes one notification per member (until read), not one per message."""
    pending = select(Notification.user_id).where(
        Notification.kind == "message",
        Notification.subject_id == conversation_id,
        Notification.read_at.is_(None),  # type: ignore[union-attr]
    )
    query = select(ConversationMember.user_id).where(
        ConversationMember.conversation_id == conversation_id,
        ConversationMember.user_id != sender_id,
        ConversationMember.user_id.not_in(pending),  # type: ignore[attr-defined]
    )
    return list((await session.execute(query)).scalars())


async def list_messages(
    *, session: AsyncSession, viewer_id: str, conversation_id: str, first: int, after: str | None = None
) -> Page[Message]:
    """Newest first; `after` continues towards older messages."""
    await require_member(session=session, conversation_id=conversation_id, user_id=viewer_id)
    query = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        created_at, message_id = decode_cursor("messages", after, (datetime, str))
        query = query.where(keyset_after([Message.created_at, Message.id], [created_at, message_id], descending=True))
    query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = list((await session.execute(query)).scalars())
    items = rows[:first]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor("messages", m.created_at, m.id) for m in items),
        has_next_page=len(rows) > first,
    )


async def mark_read(
    *, session: AsyncSession, user_id: str, conversation_id: str, message_id: str
) -> ConversationMember:
    """Read receipt: move the caller's marker forward to `message_id` (never backwards)."""
    member = await require_member(session=session, conversation_id=conversation_id, user_id=user_id)
    message = await session.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        raise BadUserInputError("Message not found in this conversation", extensions={"argument": "messageId"})
    if member.last_read_at is None or (message.created_at, message.id) > (member.last_read_at, member.last_read_message_id or ""):
        member.last_read_at = message.created_at
        member.last_read_message_id = message.id
    await session.commit()
    return member


async def list_members(*, session: AsyncSession, conversation_id: str) -> list[ConversationMember]:
    query = select(ConversationMember).where(ConversationMember.conversation_id == conversation_id).order_by(
        ConversationMember.joined_at, ConversationMember.user_id
    )
    return list((await session.execute(query)).scalars())


async def unread_count(*, session: AsyncSession, member: ConversationMember) -> int:
    query = select(func.count()).select_from(Message).where(
        Message.conversation_id == member.conversation_id, Message.sender_id != member.user_id
    )
    if member.last_read_at is not None:
        query = query.where(
            keyset_after([Message.created_at, Message.id], [member.last_read_at, member.last_read_message_id or ""], descending=False)
        )
    return int((await session.execute(query)).scalar_one())


async def list_conversations(
    *, session: AsyncSession, user_id: str, first: int, after: str | None = None
) -> Page[Conversation]:
    """The caller's conversations, most recently active first."""
    query = select(Conversation).join(
        ConversationMember, ConversationMember.conversation_id == Conversation.id
    ).where(ConversationMember.user_id == user_id)
    if after is not None:
        last, conversation_id = decode_cursor("conversations", after, (datetime, str))
        query = query.where(
            keyset_after([Conversation.last_message_at, Conversation.id], [last, conversation_id], descending=True)
        )
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = list((await session.execute(query)).scalars())
    items = rows[:first]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor("conversations", c.last_message_at, c.id) for c in items),
        has_next_page=len(rows) > first,
    )
