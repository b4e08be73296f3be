"""Query root fields."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from shared.dead_letter_schema import ADMIN_ROLE
from shared.errors import BadUserInputError
from subgraphs.social import _context as ctx
from subgraphs.social.resolvers.dead_letters import DeadLetterQuery
from subgraphs.social.services import (
    blocks,
    circles,
    conversations,
    feeds,
    notifications,
    posts,
    privacy,
    realtime,
    wallet_notices,
)
from subgraphs.social.types.circle import Circle
from subgraphs.social.types.conversation import Conversation
from subgraphs.social.types.notification import Notification
from subgraphs.social.types.pagination import Connection, connection
from subgraphs.social.types.post import Post
from subgraphs.social.types.presence import Presence
from subgraphs.social.types.user import (
    BlockedUserConnection,
    FollowRequestConnection,
    PrivacySettings,
)

__all__ = ["Query"]

MAX_PRESENCE_USERS = 200


@strawberry.type
class Query(DeadLetterQuery):  # type: ignore[misc,valid-type]
    @strawberry.field
    async def post(self, info: Info[Any, Any], id: strawberry.ID) -> Post:
        async with ctx.session(info) as session:
            row = await posts.get_visible_post(session=session, viewer_id=ctx.viewer_id(info), post_id=str(id))
        return Post.from_row(row)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Posts of followed users, of the caller's circles and its own; newest first.")
    async def home_feed(self, info: Info[Any, Any], first: int = 20, after: str | None = None) -> Connection[Post]:
        viewer = ctx.require_user(info)
        async with ctx.session(info) as session:
            page = await feeds.home_feed(
                session=session, kv=ctx.kv(info), viewer_id=viewer, first=ctx.page_size(info, first),
                after=after, ttl=ctx.settings(info).feed_cache_ttl,
            )
        return connection(page, Post.from_row)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Posts of one circle, newest first (members only).")
    async def circle_feed(
        self, info: Info[Any, Any], circle_id: strawberry.ID, first: int = 20, after: str | None = None
    ) -> Connection[Post]:
        viewer = ctx.require_user(info)
        async with ctx.session(info) as session:
            page = await feeds.circle_feed(
                session=session, kv=ctx.kv(info), viewer_id=viewer, circle_id=str(circle_id),
                first=ctx.page_size(info, first), after=after, ttl=ctx.settings(info).feed_cache_ttl,
            )
        return connection(page, Post.from_row)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Public posts ranked by engagement with time decay.")
    async def trending_feed(self, info: Info[Any, Any], first: int = 20, after: str | None = None) -> Connection[Post]:
        async with ctx.session(info) as session:
            page = await feeds.trending_feed(
                session=session, kv=ctx.kv(info), first=ctx.page_size(info, first), after=after,
                ttl=ctx.settings(info).feed_cache_ttl,
            )
        return connection(page, Post.from_row)

    @strawberry.field
    async def circle(self, info: Info[Any, Any], id: strawberry.ID) -> Circle:
        async with ctx.session(info) as session:
            row = await circles.get_circle(session=session, viewer_id=ctx.require_user(info), circle_id=str(id))
        return Circle.from_row(row)

    @strawberry.field(directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])])
    async def my_circles(self, info: Info[Any, Any], first: int = 20, after: str | None = None) -> Connection[Circle]:
        async with ctx.session(info) as session:
            page = await circles.list_my_circles(
                session=session, user_id=ctx.require_user(info), first=ctx.page_size(info, first), after=after
            )
        return connection(page, Circle.from_row)

    @strawberry.federation.field(
        authenticated=True,
        description="A conversation of the caller (FORBIDDEN for non-members).")
    async def conversation(self, info: Info[Any, Any], id: strawberry.ID) -> Conversation:
        from subgraphs.social.models import Conversation as ConversationRow

        async with ctx.session(info) as session:
            await conversations.require_member(session=session, conversation_id=str(id),
                                               user_id=ctx.require_user(info), access="preview")
            row = await session.get(ConversationRow, str(id))
        assert row is not None
        return Conversation.from_row(row)

    @strawberry.federation.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        
        authenticated=True,
        description="The caller's conversations, most recently active first.")
    async def my_conversations(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> Connection[Conversation]:
        async with ctx.session(info) as session:
            page = await conversations.list_conversations(
                session=session, user_id=ctx.require_user(info), first=ctx.page_size(info, first), after=after
            )
        return connection(page, Conversation.from_row)

    @strawberry.federation.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        
        authenticated=True,
        description="Message requests and group invitations awaiting the caller's answer.")
    async def conversation_requests(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> Connection[Conversation]:
        async with ctx.session(info) as session:
            page = await conversations.list_conversations(
                session=session, user_id=ctx.require_user(info), first=ctx.page_size(info, first),
                after=after, pending=True,
            )
        return connection(page, Conversation.from_row)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges"])],
        description="Pending requests to follow the caller's (private) account, newest first.")
    async def follow_requests(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> FollowRequestConnection:
        async with ctx.session(info) as session:
            page = await privacy.list_requests(
                session=session, owner_id=ctx.require_user(info), first=ctx.page_size(info, first), after=after
            )
        return FollowRequestConnection.from_page(page)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges"])],
        description="The users the caller blocked, most recent first (visible to the caller only).")
    async def my_blocked_users(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> BlockedUserConnection:
        async with ctx.session(info) as session:
            page = await blocks.list_blocked(
                session=session, blocker_id=ctx.require_user(info), first=ctx.page_size(info, first), after=after
            )
        return BlockedUserConnection.from_page(page)

    @strawberry.field
    async def my_privacy_settings(self, info: Info[Any, Any]) -> PrivacySettings:
        async with ctx.session(info) as session:
            row = await privacy.get_settings(session=session, user_id=ctx.require_user(info))
        return PrivacySettings(is_private=row.is_private,
                               allow_group_adds_from_following=row.allow_group_adds_from_following)

    @strawberry.federation.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        authenticated=True)
    async def notifications(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None, unread_only: bool = False
    ) -> Connection[Notification]:
        async with ctx.session(info) as session:
            page = await notifications.list_notifications(
                session=session, user_id=ctx.require_user(info), first=ctx.page_size(info, first),
                after=after, unread_only=unread_only,
            )
        return connection(page, Notification.from_row)

    @strawberry.federation.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        
        authenticated=True,
        description="Notifications for admins: suspicious wallet activity and "
                      "ledger reconciliation breaks (role ADMIN).")
    async def admin_notifications(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> Connection[Notification]:
        caller = info.context.caller
        caller.require_user()
        caller.require_role(ADMIN_ROLE)
        async with ctx.session(info) as session:
            page = await notifications.list_notifications(
                session=session, user_id=wallet_notices.ADMINS, first=ctx.page_size(info, first),
                after=after,
            )
        return connection(page, Notification.from_row)

    @strawberry.field
    async def unread_notification_count(self, info: Info[Any, Any]) -> int:
        async with ctx.session(info) as session:
            return await notifications.unread_notification_count(session=session, user_id=ctx.require_user(info))

    @strawberry.field(directives=[ListSize(assumed_size=100)])
    async def presence(self, info: Info[Any, Any], user_ids: list[strawberry.ID]) -> list[Presence]:
        ctx.require_user(info)
        if len(user_ids) > MAX_PRESENCE_USERS:
            raise BadUserInputError(f"At most {MAX_PRESENCE_USERS} users", extensions={"argument": "userIds"})
        states = await realtime.get_presence(ctx.kv(info), user_ids=[str(u) for u in user_ids])
        return [Presence.from_state(s) for s in states]
