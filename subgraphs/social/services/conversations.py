"""Conversations (direct and group), messages and read receipts; only members may read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ForbiddenError
from shared.redis import KeyValue
from subgraphs.social.models import (
    Conversation,
    ConversationMember,
    Follow,
    Message,
    Notification,
    PrivacySettings,
    utcnow,
)
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._validation import check_plain, check_ref_ids
from subgraphs.social.services.notifications import add_notification, publish_notifications
from subgraphs.social.services.posts import check_text
from subgraphs.social.services.realtime import conversation_channel, publish

__all__ = [
    "MAX_GROUP_MEMBERS",
    "accept",
    "add_members",
    "create_group",
    "decline",
    "leave",
    "list_conversations",
    "list_members",
    "list_messages",
    "mark_read",
    "message_payload",
    "open_direct",
    "require_member",
    "send_message",
    "set_share_history",
    "unread_count",
]

MAX_GROUP_MEMBERS = 256


# Which membership statuses each kind of access admits. A message request's recipient may read
# it (to decide) but not answer, mark it read or type until it accepts; an invitee sees only the
# conversation and its members until it accepts.
_ACCESS = {
    "preview": ("active", "requested", "invited"),
    "read": ("active", "requested"),
    "write": ("active",),
}
_PENDING_REASON = {"requested": "REQUEST_PENDING", "invited": "INVITATION_PENDING"}


async def require_member(
    *, session: AsyncSession, conversation_id: str, user_id: str, access: str = "read"
) -> ConversationMember:
    """The caller's membership, or FORBIDDEN (also for unknown ids, so existence is not disclosed).
    A membership still pending answers FORBIDDEN with REQUEST_PENDING / INVITATION_PENDING."""
    member = await session.get(ConversationMember, (conversation_id, user_id))
    if member is None:
        raise ForbiddenError(
            "Not a member of this conversation",
            extensions={"conversationId": conversation_id, "reason": "NOT_A_MEMBER"},
        )
    if member.status not in _ACCESS[access]:
        raise ForbiddenError(
            "Accept this conversation first",
            extensions={"conversationId": conversation_id, "reason": _PENDING_REASON[member.status]},
        )
    return member


async def _join_status(session: AsyncSession, *, adder_id: str, user_ids: Sequence[str]) -> dict[str, str]:
    """active for users who let people they follow add them and follow `adder_id`; invited
    for everyone else. FORBIDDEN if the adder and any of them blocked one another."""
    from subgraphs.social.services.blocks import require_not_blocked

    others = [u for u in user_ids if u != adder_id]
    await require_not_blocked(session=session, actor_id=adder_id, other_ids=others, argument="memberIds")
    if not others:
        return {}
    refusing = select(PrivacySettings.user_id).where(
        PrivacySettings.user_id.in_(others),  # type: ignore[attr-defined]
        PrivacySettings.allow_group_adds_from_following.is_(False),  # type: ignore[attr-defined]
    )
    consenting = set((await session.execute(select(Follow.follower_id).where(
        Follow.followee_id == adder_id, Follow.follower_id.in_(others),  # type: ignore[attr-defined]
        Follow.follower_id.not_in(refusing),  # type: ignore[attr-defined]
    ))).scalars())
    return {u: "active" if u in consenting else "invited" for u in others}


async def _invite_notices(
    session: AsyncSession, *, conversation_id: str, adder_id: str, statuses: dict[str, str]
) -> list[Notification | None]:
    return [
        await add_notification(session, user_id=u, kind="conversation_invite", actor_id=adder_id,
                               subject_id=conversation_id, data={"conversationId": conversation_id})
        for u, status in sorted(statuses.items()) if status == "invited"
    ]


async def create_group(
    *, session: AsyncSession, creator_id: str, member_ids: Sequence[str], title: str | None = None,
    share_history: bool = False, kv: KeyValue | None = None,
) -> Conversation:
    """A group of the creator and `member_ids`: members whose consent rule allows it join at once,
    the others are invited (see `_join_status`)."""
    members = list(dict.fromkeys([creator_id, *check_ref_ids(member_ids, argument="memberIds")]))
    if len(members) < 2:
        raise BadUserInputError("A group needs at least one other member", extensions={"argument": "memberIds"})
    if len(members) > MAX_GROUP_MEMBERS:
        raise BadUserInputError(f"At most {MAX_GROUP_MEMBERS} members", extensions={"argument": "memberIds"})
    if title is not None and len(check_plain(title, argument="title")) > 200:
        raise BadUserInputError("Title is longer than 200 characters", extensions={"argument": "title"})
    statuses = await _join_status(session, adder_id=creator_id, user_ids=members)
    conversation = Conversation(kind="group", title=title, created_by=creator_id, share_history=share_history)
    session.add(conversation)
    await session.flush()
    session.add_all(
        ConversationMember(conversation_id=conversation.id, user_id=u, status=statuses.get(u, "active"),
                           invited_by=creator_id if statuses.get(u) == "invited" else None)
        for u in members
    )
    notices = await _invite_notices(session, conversation_id=conversation.id, adder_id=creator_id, statuses=statuses)
    await session.commit()
    if kv is not None:
        await publish_notifications(kv, notices)
    return conversation


async def open_direct(*, session: AsyncSession, user_id: str, other_id: str) -> Conversation:
    """The one direct conversation between two users, created on first use (race-safe)."""
    from subgraphs.social.services.blocks import require_not_blocked

    check_ref_ids([other_id], argument="userId")
    if user_id == other_id:
        raise BadUserInputError("A direct conversation needs another user", extensions={"argument": "userId"})
    await require_not_blocked(session=session, actor_id=user_id, other_ids=[other_id], argument="userId")
    key = "|".join(sorted((user_id, other_id)))
    existing = (await session.execute(select(Conversation).where(Conversation.direct_key == key))).scalar_one_or_none()
    if existing is not None:
        return existing
    # From someone the recipient does not follow, the conversation is a message request.
    follows_back = await session.get(Follow, (other_id, user_id)) is not None
    try:
        async with session.begin_nested():
            conversation = Conversation(kind="direct", direct_key=key, created_by=user_id)
            session.add(conversation)
            await session.flush()
            session.add_all([
                ConversationMember(conversation_id=conversation.id, user_id=user_id),
                ConversationMember(conversation_id=conversation.id, user_id=other_id,
                                   status="active" if follows_back else "requested"),
            ])
            await session.flush()
    except IntegrityError:
        await session.rollback()
        return (await session.execute(select(Conversation).where(Conversation.direct_key == key))).scalar_one()
    await session.commit()
    return conversation


async def add_members(
    *, session: AsyncSession, actor_id: str, conversation_id: str, user_ids: Sequence[str],
    kv: KeyValue | None = None,
) -> Conversation:
    """Add members to a group: those whose consent rule allows it join now, others are invited."""
    from subgraphs.social.services._sql import insert_ignore

    check_ref_ids(user_ids, argument="userIds")
    await require_member(session=session, conversation_id=conversation_id, user_id=actor_id, access="write")
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    if conversation.kind != "group":
        raise BadUserInputError("Members can only be added to group conversations")
    present = set((await session.execute(select(ConversationMember.user_id).where(
        ConversationMember.conversation_id == conversation_id,
        ConversationMember.user_id.in_(list(user_ids)),  # type: ignore[attr-defined]
    ))).scalars())
    statuses = await _join_status(session, adder_id=actor_id, user_ids=[u for u in dict.fromkeys(user_ids) if u not in present])
    now = utcnow()
    await insert_ignore(
        session, ConversationMember,
        [{"conversation_id": conversation_id, "user_id": u, "joined_at": now, "status": status,
          "invited_by": actor_id if status == "invited" else None} for u, status in statuses.items()],
    )
    count = (await session.execute(
        select(func.count()).select_from(ConversationMember).where(ConversationMember.conversation_id == conversation_id)
    )).scalar_one()
    if count > MAX_GROUP_MEMBERS:
        await session.rollback()
        raise BadUserInputError(f"At most {MAX_GROUP_MEMBERS} members", extensions={"argument": "userIds"})
    notices = await _invite_notices(session, conversation_id=conversation_id, adder_id=actor_id, statuses=statuses)
    await session.commit()
    if kv is not None:
        await publish_notifications(kv, notices)
    return conversation


async def accept(*, session: AsyncSession, user_id: str, conversation_id: str) -> Conversation:
    """Accept a message request or a group invitation. An invitee joins now: without the group's
    shared history it sees messages from this moment on."""
    member = await require_member(session=session, conversation_id=conversation_id, user_id=user_id, access="preview")
    if member.status == "invited":
        member.joined_at = utcnow()
    member.status = "active"
    member.invited_by = None
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    await session.commit()
    return conversation


async def decline(*, session: AsyncSession, user_id: str, conversation_id: str) -> bool:
    """Decline a message request (the conversation and its messages go) or an invitation (the
    invitee's membership goes). The other side is not told. BAD_USER_INPUT if nothing is pending."""
    member = await require_member(session=session, conversation_id=conversation_id, user_id=user_id, access="preview")
    if member.status == "active":
        raise BadUserInputError("Nothing to decline in this conversation", extensions={"argument": "conversationId"})
    if member.status == "requested":
        for model in (Message, ConversationMember):
            await session.execute(delete(model).where(model.conversation_id == conversation_id))  # type: ignore[arg-type]
        await session.execute(delete(Conversation).where(Conversation.id == conversation_id))  # type: ignore[arg-type]
    else:
        await session.delete(member)
    await session.commit()
    return True


async def set_share_history(
    *, session: AsyncSession, user_id: str, conversation_id: str, share_history: bool
) -> Conversation:
    """Whether new group members see earlier messages: the group's creator decides (any active
    member for groups created before creators were recorded)."""
    await require_member(session=session, conversation_id=conversation_id, user_id=user_id, access="write")
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    if conversation.kind != "group":
        raise BadUserInputError("History sharing applies to group conversations only",
                                extensions={"argument": "conversationId"})
    if conversation.created_by not in (None, user_id):
        raise ForbiddenError("Only the group's creator can change this", extensions={"reason": "NOT_CREATOR"})
    conversation.share_history = share_history
    await session.commit()
    return conversation


async def leave(*, session: AsyncSession, user_id: str, conversation_id: str) -> bool:
    member = await require_member(session=session, conversation_id=conversation_id, user_id=user_id, access="preview")
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
    sender = await require_member(session=session, conversation_id=conversation_id, user_id=sender_id, access="write")
    await _require_direct_not_blocked(session, conversation_id, sender_id)
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
            session, user_id=u, kind="message" if status == "active" else "message_request",
            actor_id=sender_id, subject_id=conversation_id,
            data={"conversationId": conversation_id, "messageId": message.id},
        )
        for u, status in await _members_to_notify(session, conversation_id, sender_id)
    ]
    await session.commit()
    await publish(kv, conversation_channel(conversation_id), message_payload(message))
    await publish_notifications(kv, notices)
    return message


async def _require_direct_not_blocked(session: AsyncSession, conversation_id: str, sender_id: str) -> None:
    from subgraphs.social.services.blocks import require_not_blocked

    conversation = await session.get(Conversation, conversation_id)
    if conversation is not None and conversation.direct_key is not None:
        others = [u for u in conversation.direct_key.split("|") if u != sender_id]
        await require_not_blocked(session=session, actor_id=sender_id, other_ids=others, argument="conversationId")


async def _members_to_notify(session: AsyncSession, conversation_id: str, sender_id: str) -> list[tuple[str, str]]:
    """Other members (with their status) without an unread message notification for this
    conversation: a burst of messages makes one notification per member (until read), not one
    per message. Invitees are not told of messages they cannot read."""
    pending = select(Notification.user_id).where(
        Notification.kind.in_(("message", "message_request")),  # type: ignore[attr-defined]
        Notification.subject_id == conversation_id,
        Notification.read_at.is_(None),  # type: ignore[union-attr]
    )
    query = select(ConversationMember.user_id, ConversationMember.status).where(
        ConversationMember.conversation_id == conversation_id,
        ConversationMember.user_id != sender_id,
        ConversationMember.status != "invited",
        ConversationMember.user_id.not_in(pending),  # type: ignore[attr-defined]
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def list_messages(
    *, session: AsyncSession, viewer_id: str, conversation_id: str, first: int, after: str | None = None
) -> Page[Message]:
    """Newest first; `after` continues towards older messages. Without shared history a group
    member reads only messages from when it joined."""
    member = await require_member(session=session, conversation_id=conversation_id, user_id=viewer_id)
    query = select(Message).where(Message.conversation_id == conversation_id, await _history_clause(session, member))
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


async def _history_clause(session: AsyncSession, member: ConversationMember) -> Any:
    """SQL condition on Message: what of the history `member` may read."""
    conversation = await session.get(Conversation, member.conversation_id)
    if conversation is None or conversation.kind != "group" or conversation.share_history:
        return true()
    return Message.created_at >= member.joined_at


async def mark_read(
    *, session: AsyncSession, user_id: str, conversation_id: str, message_id: str
) -> ConversationMember:
    """Read receipt: move the caller's marker forward to `message_id` (never backwards)."""
    member = await require_member(session=session, conversation_id=conversation_id, user_id=user_id, access="write")
    message = await session.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id or not await _readable(session, member, message):
        raise BadUserInputError("Message not found in this conversation", extensions={"argument": "messageId"})
    if member.last_read_at is None or (message.created_at, message.id) > (member.last_read_at, member.last_read_message_id or ""):
        member.last_read_at = message.created_at
        member.last_read_message_id = message.id
    await session.commit()
    return member


async def _readable(session: AsyncSession, member: ConversationMember, message: Message) -> bool:
    conversation = await session.get(Conversation, member.conversation_id)
    hidden = conversation is not None and conversation.kind == "group" and not conversation.share_history
    return not hidden or message.created_at >= member.joined_at


async def list_members(*, session: AsyncSession, conversation_id: str) -> list[ConversationMember]:
    query = select(ConversationMember).where(ConversationMember.conversation_id == conversation_id).order_by(
        ConversationMember.joined_at, ConversationMember.user_id
    )
    return list((await session.execute(query)).scalars())


async def unread_count(*, session: AsyncSession, member: ConversationMember) -> int:
    query = select(func.count()).select_from(Message).where(
        Message.conversation_id == member.conversation_id, Message.sender_id != member.user_id,
        await _history_clause(session, member),
    )
    if member.last_read_at is not None:
        query = query.where(
            keyset_after([Message.created_at, Message.id], [member.last_read_at, member.last_read_message_id or ""], descending=False)
        )
    return int((await session.execute(query)).scalar_one())


async def list_conversations(
    *, session: AsyncSession, user_id: str, first: int, after: str | None = None, pending: bool = False
) -> Page[Conversation]:
    """The caller's conversations, most recently active first; with `pending`, instead the
    message requests and group invitations awaiting the caller's answer."""
    statuses = ("requested", "invited") if pending else ("active",)
    query = select(Conversation).join(
        ConversationMember, ConversationMember.conversation_id == Conversation.id
    ).where(ConversationMember.user_id == user_id, ConversationMember.status.in_(statuses))  # type: ignore[attr-defined]
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
