"""Mutation root fields."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from shared.references import MEDIA, USER
from subgraphs.social import _context as ctx
from subgraphs.social.models import new_id
from subgraphs.social.resolvers.dead_letters import DeadLetterMutation
from subgraphs.social.services import (
    blocks,
    circles,
    comments,
    conversations,
    follows,
    moderation,
    notifications,
    posts,
    privacy,
    reactions,
    realtime,
)
from subgraphs.social.types.circle import Circle, CircleMember, CircleRole
from subgraphs.social.types.comment import Comment
from subgraphs.social.types.conversation import (
    Conversation,
    ConversationMember,
    Message,
    TypingEvent,
)
from subgraphs.social.types.post import Post, ReactionKind, Visibility
from subgraphs.social.types.presence import Presence, PresenceStatus
from subgraphs.social.types.user import PrivacySettings, User

__all__ = ["Mutation"]


@strawberry.input
class CreatePostInput:
    text: str
    visibility: Visibility = Visibility.PUBLIC
    circle_id: strawberry.ID | None = None
    media_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    mention_user_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class AddCommentInput:
    post_id: strawberry.ID
    text: str
    parent_id: strawberry.ID | None = None
    mention_user_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


async def _require_mentions(info: Info[Any, Any], mention_ids: list[strawberry.ID]) -> None:
    if mention_ids:
        await ctx.references(info).require(USER, [str(u) for u in mention_ids],
                                           field_name="mentionUserIds")


@strawberry.type
class Mutation(DeadLetterMutation):  # type: ignore[misc,valid-type]
    @strawberry.mutation(description="Follow a user (idempotent); returns the followed user.")
    async def follow(self, info: Info[Any, Any], user_id: strawberry.ID) -> User:
        me = await ctx.limit_writes(info, "follow")
        await ctx.references(info).require(USER, [str(user_id)], field_name="userId")
        async with ctx.session(info) as session:
            await follows.follow(session=session, kv=ctx.kv(info), follower_id=me, followee_id=str(user_id))
        return User(id=user_id)

    @strawberry.mutation(description="Stop following a user or withdraw a follow request (idempotent); returns that user.")
    async def unfollow(self, info: Info[Any, Any], user_id: strawberry.ID) -> User:
        async with ctx.session(info) as session:
            await follows.unfollow(session=session, kv=ctx.kv(info), follower_id=ctx.require_user(info), followee_id=str(user_id))
        return User(id=user_id)

    @strawberry.mutation(description="Let a pending follow request through; returns the new follower.")
    async def approve_follow_request(self, info: Info[Any, Any], user_id: strawberry.ID) -> User:
        async with ctx.session(info) as session:
            await privacy.approve_request(session=session, kv=ctx.kv(info), owner_id=ctx.require_user(info),
                                          requester_id=str(user_id))
        return User(id=user_id)

    @strawberry.mutation(description="Turn a follow request down (the requester is not told); false if none was pending.")
    async def decline_follow_request(self, info: Info[Any, Any], user_id: strawberry.ID) -> bool:
        async with ctx.session(info) as session:
            return await privacy.decline_request(session=session, owner_id=ctx.require_user(info),
                                                 requester_id=str(user_id))

    @strawberry.mutation(description="End someone's follow of the caller; false if they did not follow.")
    async def remove_follower(self, info: Info[Any, Any], user_id: strawberry.ID) -> bool:
        async with ctx.session(info) as session:
            return await privacy.remove_follower(session=session, kv=ctx.kv(info), owner_id=ctx.require_user(info),
                                                 follower_id=str(user_id))

    @strawberry.mutation(description="Change the caller's privacy settings; going public approves pending requests.")
    async def update_privacy_settings(
        self, info: Info[Any, Any], is_private: bool | None = None,
        allow_group_adds_from_following: bool | None = None,
    ) -> PrivacySettings:
        async with ctx.session(info) as session:
            row = await privacy.update_settings(
                session=session, kv=ctx.kv(info), user_id=ctx.require_user(info), is_private=is_private,
                allow_group_adds_from_following=allow_group_adds_from_following,
            )
        return PrivacySettings(is_private=row.is_private,
                               allow_group_adds_from_following=row.allow_group_adds_from_following)

    @strawberry.mutation(description="Block a user: follows both ways end, and they can no longer follow, "
                                     "message, mention or tip the caller or see its non-public posts.")
    async def block(self, info: Info[Any, Any], user_id: strawberry.ID) -> User:
        me = await ctx.limit_writes(info, "block")
        await ctx.references(info).require(USER, [str(user_id)], field_name="userId")
        async with ctx.session(info) as session:
            await blocks.block(session=session, kv=ctx.kv(info), blocker_id=me, blocked_id=str(user_id))
        return User(id=user_id)

    @strawberry.mutation(description="Lift a block (idempotent); ended follows stay ended.")
    async def unblock(self, info: Info[Any, Any], user_id: strawberry.ID) -> User:
        async with ctx.session(info) as session:
            await blocks.unblock(session=session, kv=ctx.kv(info), blocker_id=ctx.require_user(info),
                                 blocked_id=str(user_id))
        return User(id=user_id)

    @strawberry.mutation
    async def create_post(self, info: Info[Any, Any], input: CreatePostInput) -> Post:
        user_id = await ctx.limit_writes(info, "post")
        await _require_mentions(info, input.mention_user_ids)
        if input.media_ids:
            # Only the author's own media, and only once content has it READY.
            await ctx.references(info).require_matching(
                MEDIA, [str(m) for m in input.media_ids], field_name="mediaIds",
                where={"ownerId": user_id, "status": "READY"}, reason="MEDIA_NOT_READY_OR_NOT_OWNED")
        posts.check_text(input.text)
        post_id = new_id()  # named before the check: a held post becomes a case about this id
        state = await moderation.screen(
            ctx.references(info).client, surface="post", text=input.text, author_id=user_id,
            subject_id=post_id, policy=ctx.settings(info).moderation_post_policy)
        async with ctx.session(info) as session:
            row = await posts.create_post(
                session=session, kv=ctx.kv(info), author_id=user_id, text=input.text,
                post_id=post_id, moderation_state=state,
                visibility=input.visibility.value,
                circle_id=str(input.circle_id) if input.circle_id is not None else None,
                media_ids=[str(m) for m in input.media_ids],
                mention_user_ids=[str(u) for u in input.mention_user_ids],
            )
        return Post.from_row(row)

    @strawberry.mutation
    async def delete_post(self, info: Info[Any, Any], id: strawberry.ID) -> bool:
        async with ctx.session(info) as session:
            return await posts.delete_post(session=session, kv=ctx.kv(info), user_id=ctx.require_user(info), post_id=str(id))

    @strawberry.mutation
    async def add_comment(self, info: Info[Any, Any], input: AddCommentInput) -> Comment:
        user_id = await ctx.limit_writes(info, "comment")
        await _require_mentions(info, input.mention_user_ids)
        posts.check_text(input.text)
        comment_id = new_id()
        state = await moderation.screen(
            ctx.references(info).client, surface="comment", text=input.text, author_id=user_id,
            subject_id=comment_id, policy=ctx.settings(info).moderation_comment_policy)
        async with ctx.session(info) as session:
            row = await comments.add_comment(
                session=session, kv=ctx.kv(info), author_id=user_id, post_id=str(input.post_id),
                comment_id=comment_id, moderation_state=state,
                text=input.text, parent_id=str(input.parent_id) if input.parent_id is not None else None,
                mention_user_ids=[str(u) for u in input.mention_user_ids],
            )
        return Comment.from_row(row)

    @strawberry.mutation(description="Delete a comment and its replies; returns how many were deleted.")
    async def delete_comment(self, info: Info[Any, Any], id: strawberry.ID) -> int:
        async with ctx.session(info) as session:
            return await comments.delete_comment(
                session=session, kv=ctx.kv(info), user_id=ctx.require_user(info), comment_id=str(id)
            )

    @strawberry.mutation(description="React to a post; reacting again changes the kind.")
    async def react(self, info: Info[Any, Any], post_id: strawberry.ID, kind: ReactionKind) -> Post:
        user_id = await ctx.limit_writes(info, "reaction")
        async with ctx.session(info) as session:
            row = await reactions.react(
                session=session, kv=ctx.kv(info), user_id=user_id, post_id=str(post_id), kind=kind.value
            )
        return Post.from_row(row)

    @strawberry.mutation
    async def unreact(self, info: Info[Any, Any], post_id: strawberry.ID) -> Post:
        async with ctx.session(info) as session:
            row = await reactions.unreact(session=session, kv=ctx.kv(info), user_id=ctx.require_user(info), post_id=str(post_id))
        return Post.from_row(row)

    @strawberry.mutation
    async def create_circle(self, info: Info[Any, Any], name: str) -> Circle:
        async with ctx.session(info) as session:
            row = await circles.create_circle(session=session, owner_id=ctx.require_user(info), name=name)
        return Circle.from_row(row)

    @strawberry.mutation(description="Add a member (owner/admin; only the owner adds admins).")
    async def add_circle_member(
        self, info: Info[Any, Any], circle_id: strawberry.ID, user_id: strawberry.ID,
        role: CircleRole = CircleRole.MEMBER,
    ) -> CircleMember:
        await ctx.references(info).require(USER, [str(user_id)], field_name="userId")
        async with ctx.session(info) as session:
            row = await circles.add_member(
                session=session, kv=ctx.kv(info), actor_id=ctx.require_user(info), circle_id=str(circle_id),
                user_id=str(user_id), role=role.value,
            )
        return CircleMember.from_row(row)

    @strawberry.mutation(description="Remove a member, or leave when userId is the caller.")
    async def remove_circle_member(self, info: Info[Any, Any], circle_id: strawberry.ID, user_id: strawberry.ID) -> bool:
        async with ctx.session(info) as session:
            return await circles.remove_member(
                session=session, kv=ctx.kv(info), actor_id=ctx.require_user(info), circle_id=str(circle_id), user_id=str(user_id)
            )

    @strawberry.mutation(description="Change a member's role (owner only).")
    async def set_circle_member_role(
        self, info: Info[Any, Any], circle_id: strawberry.ID, user_id: strawberry.ID, role: CircleRole
    ) -> CircleMember:
        async with ctx.session(info) as session:
            row = await circles.set_member_role(
                session=session, actor_id=ctx.require_user(info), circle_id=str(circle_id), user_id=str(user_id), role=role.value
            )
        return CircleMember.from_row(row)

    @strawberry.mutation
    async def delete_circle(self, info: Info[Any, Any], id: strawberry.ID) -> bool:
        async with ctx.session(info) as session:
            return await circles.delete_circle(session=session, kv=ctx.kv(info), actor_id=ctx.require_user(info), circle_id=str(id))

    @strawberry.mutation(description="Start a group conversation with the caller and `memberIds`. Members "
                                     "who follow the caller and allow it join at once; the others are invited.")
    async def create_conversation(
        self, info: Info[Any, Any], member_ids: list[strawberry.ID], title: str | None = None,
        share_history: bool = False,
    ) -> Conversation:
        await ctx.references(info).require(USER, [str(m) for m in member_ids],
                                           field_name="memberIds")
        async with ctx.session(info) as session:
            row = await conversations.create_group(
                session=session, creator_id=ctx.require_user(info), member_ids=[str(m) for m in member_ids],
                title=title, share_history=share_history, kv=ctx.kv(info),
            )
        return Conversation.from_row(row)

    @strawberry.mutation(description="Whether new members see earlier messages (the group's creator decides).")
    async def set_conversation_share_history(
        self, info: Info[Any, Any], conversation_id: strawberry.ID, share_history: bool
    ) -> Conversation:
        async with ctx.session(info) as session:
            row = await conversations.set_share_history(
                session=session, user_id=ctx.require_user(info), conversation_id=str(conversation_id),
                share_history=share_history,
            )
        return Conversation.from_row(row)

    @strawberry.mutation(description="Accept a message request or a group invitation.")
    async def accept_conversation(self, info: Info[Any, Any], conversation_id: strawberry.ID) -> Conversation:
        async with ctx.session(info) as session:
            row = await conversations.accept(session=session, user_id=ctx.require_user(info),
                                             conversation_id=str(conversation_id))
        return Conversation.from_row(row)

    @strawberry.mutation(description="Decline a message request (it is deleted) or a group invitation.")
    async def decline_conversation(self, info: Info[Any, Any], conversation_id: strawberry.ID) -> bool:
        async with ctx.session(info) as session:
            return await conversations.decline(session=session, user_id=ctx.require_user(info),
                                               conversation_id=str(conversation_id))

    @strawberry.mutation(description="The direct conversation with `userId`, created on first use; a "
                                     "message request unless `userId` follows the caller.")
    async def open_direct_conversation(self, info: Info[Any, Any], user_id: strawberry.ID) -> Conversation:
        await ctx.references(info).require(USER, [str(user_id)], field_name="userId")
        async with ctx.session(info) as session:
            row = await conversations.open_direct(session=session, user_id=ctx.require_user(info), other_id=str(user_id))
        return Conversation.from_row(row)

    @strawberry.mutation
    async def add_conversation_members(
        self, info: Info[Any, Any], conversation_id: strawberry.ID, user_ids: list[strawberry.ID]
    ) -> Conversation:
        await ctx.references(info).require(USER, [str(u) for u in user_ids], field_name="userIds")
        async with ctx.session(info) as session:
            row = await conversations.add_members(
                session=session, actor_id=ctx.require_user(info), conversation_id=str(conversation_id),
                user_ids=[str(u) for u in user_ids], kv=ctx.kv(info),
            )
        return Conversation.from_row(row)

    @strawberry.mutation
    async def leave_conversation(self, info: Info[Any, Any], conversation_id: strawberry.ID) -> bool:
        async with ctx.session(info) as session:
            done = await conversations.leave(session=session, user_id=ctx.require_user(info), conversation_id=str(conversation_id))
        await realtime.publish(
            ctx.kv(info), realtime.conversation_channel(str(conversation_id)),
            {"type": "member_left", "userId": ctx.require_user(info)},
        )
        return done

    @strawberry.mutation
    async def send_message(self, info: Info[Any, Any], conversation_id: strawberry.ID, text: str) -> Message:
        user_id = await ctx.limit_writes(info, "message")
        async with ctx.session(info) as session:
            row = await conversations.send_message(
                session=session, kv=ctx.kv(info), sender_id=user_id,
                conversation_id=str(conversation_id), text=text,
            )
        return Message.from_row(row)

    @strawberry.mutation(description="Read receipt: the caller has read up to `messageId`.")
    async def mark_conversation_read(
        self, info: Info[Any, Any], conversation_id: strawberry.ID, message_id: strawberry.ID
    ) -> ConversationMember:
        async with ctx.session(info) as session:
            row = await conversations.mark_read(
                session=session, user_id=ctx.require_user(info), conversation_id=str(conversation_id), message_id=str(message_id)
            )
        return ConversationMember.from_row(row)

    @strawberry.mutation(description="Typing indicator; it expires by itself unless renewed.")
    async def set_typing(self, info: Info[Any, Any], conversation_id: strawberry.ID, is_typing: bool = True) -> TypingEvent:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            await conversations.require_member(session=session, conversation_id=str(conversation_id),
                                               user_id=user_id, access="write")
        event = await realtime.set_typing(
            ctx.kv(info), conversation_id=str(conversation_id), user_id=user_id, is_typing=is_typing,
            ttl=ctx.settings(info).typing_ttl,
        )
        return TypingEvent(
            conversation_id=conversation_id, is_typing=is_typing, expires_in=event["expiresIn"], user_id=user_id
        )

    @strawberry.mutation(description="Presence heartbeat: ONLINE/AWAY last presenceTtl seconds; OFFLINE at once.")
    async def set_presence(self, info: Info[Any, Any], status: PresenceStatus) -> Presence:
        state = await realtime.set_presence(
            ctx.kv(info), user_id=ctx.require_user(info), status=status.value, ttl=ctx.settings(info).presence_ttl
        )
        return Presence.from_state(state)

    @strawberry.mutation(description="Mark notifications read (all when `ids` is null); returns how many.")
    async def mark_notifications_read(self, info: Info[Any, Any], ids: list[strawberry.ID] | None = None) -> int:
        async with ctx.session(info) as session:
            return await notifications.mark_notifications_read(
                session=session, user_id=ctx.require_user(info), ids=[str(i) for i in ids] if ids is not None else None
            )
