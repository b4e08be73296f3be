"""Conversations, their members (with read receipts), messages and typing events."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from subgraphs.social import _context as ctx
from subgraphs.social.models import Conversation as ConversationRow
from subgraphs.social.models import ConversationMember as MemberRow
from subgraphs.social.models import Message as MessageRow
from subgraphs.social.services import conversations, realtime
from subgraphs.social.types.pagination import Connection, connection
from subgraphs.social.types.user import User

__all__ = ["Conversation", "ConversationKind", "ConversationMember", "MembershipStatus", "Message",
           "TypingEvent"]


@strawberry.enum
class ConversationKind(Enum):
    DIRECT = "direct"
    GROUP = "group"


@strawberry.enum
class MembershipStatus(Enum):
    ACTIVE = "active"
    REQUESTED = strawberry.enum_value("requested", description="A message request not yet accepted.")
    INVITED = strawberry.enum_value("invited", description="A group invitation not yet accepted.")


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    text: str
    created_at: datetime
    sender_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: MessageRow) -> Message:
        return cls(
            id=strawberry.ID(row.id), conversation_id=strawberry.ID(row.conversation_id),
            text=row.text, created_at=row.created_at, sender_id=row.sender_id,
        )

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Message:
        """From a published message (services.conversations.message_payload), without a row."""
        return cls(
            id=strawberry.ID(payload["id"]), conversation_id=strawberry.ID(payload["conversationId"]),
            text=payload["text"], created_at=datetime.fromisoformat(payload["createdAt"]),
            sender_id=payload["senderId"],
        )

    @strawberry.field(description="The sender, a User reference the gateway resolves in identity.")
    def sender(self) -> User | None:  # identity's entity: nullable (docs/entity-references.md)
        return User(id=strawberry.ID(self.sender_id))


@strawberry.type
class ConversationMember:
    joined_at: datetime
    last_read_at: datetime | None
    last_read_message_id: strawberry.ID | None
    status: MembershipStatus
    user_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: MemberRow) -> ConversationMember:
        return cls(
            joined_at=row.joined_at, last_read_at=row.last_read_at, status=MembershipStatus(row.status),
            last_read_message_id=strawberry.ID(row.last_read_message_id) if row.last_read_message_id else None,
            user_id=row.user_id,
        )

    @strawberry.field
    def user(self) -> User | None:  # identity's entity: nullable (docs/entity-references.md)
        return User(id=strawberry.ID(self.user_id))


@strawberry.type
class TypingEvent:
    conversation_id: strawberry.ID
    is_typing: bool
    expires_in: int = strawberry.field(description="Seconds the indicator lasts unless renewed.")
    user_id: strawberry.Private[str]

    @strawberry.field
    def user(self) -> User | None:  # identity's entity: nullable (docs/entity-references.md)
        return User(id=strawberry.ID(self.user_id))


@strawberry.type
class Conversation:
    id: strawberry.ID
    kind: ConversationKind
    title: str | None
    created_at: datetime
    last_message_at: datetime
    share_history: bool = strawberry.field(
        description="Whether group members see messages from before they joined.")

    @classmethod
    def from_row(cls, row: ConversationRow) -> Conversation:
        return cls(
            id=strawberry.ID(row.id), kind=ConversationKind(row.kind), title=row.title,
            created_at=row.created_at, last_message_at=row.last_message_at, share_history=row.share_history,
        )

    @strawberry.field(
        directives=[ListSize(assumed_size=50)],
        description="Members, with invitees (status INVITED) among them.")
    async def members(self, info: Info[Any, Any]) -> list[ConversationMember]:
        async with ctx.session(info) as session:
            await conversations.require_member(session=session, conversation_id=str(self.id),
                                               user_id=ctx.require_user(info), access="preview")
            rows = await conversations.list_members(session=session, conversation_id=str(self.id))
        return [ConversationMember.from_row(r) for r in rows]

    @strawberry.field(description="The caller's membership status in this conversation.")
    async def my_status(self, info: Info[Any, Any]) -> MembershipStatus:
        async with ctx.session(info) as session:
            member = await conversations.require_member(session=session, conversation_id=str(self.id),
                                                        user_id=ctx.require_user(info), access="preview")
        return MembershipStatus(member.status)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Messages, newest first; `after` pages towards older ones.")
    async def messages(self, info: Info[Any, Any], first: int = 30, after: str | None = None) -> Connection[Message]:
        async with ctx.session(info) as session:
            page = await conversations.list_messages(
                session=session, viewer_id=ctx.require_user(info), conversation_id=str(self.id),
                first=ctx.page_size(info, first), after=after,
            )
        return connection(page, Message.from_row)

    @strawberry.field(description="Messages from others after the caller's read marker.")
    async def unread_count(self, info: Info[Any, Any]) -> int:
        async with ctx.session(info) as session:
            member = await conversations.require_member(
                session=session, conversation_id=str(self.id), user_id=ctx.require_user(info)
            )
            return await conversations.unread_count(session=session, member=member)

    @strawberry.field(
        directives=[ListSize(assumed_size=10)],
        description="Members typing right now (indicators expire by themselves).")
    async def typing(self, info: Info[Any, Any]) -> list[User | None]:
        # `[User]!`: the list is ours, its items are identity's; one it cannot resolve is a
        # null item, not a null list (docs/entity-references.md).
        async with ctx.session(info) as session:
            await conversations.require_member(session=session, conversation_id=str(self.id), user_id=ctx.require_user(info))
            rows = await conversations.list_members(session=session, conversation_id=str(self.id))
        ids = await realtime.typing_user_ids(ctx.kv(info), conversation_id=str(self.id), member_ids=[r.user_id for r in rows])
        return [User(id=strawberry.ID(u)) for u in ids]
