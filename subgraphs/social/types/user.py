"""identity's `User`, extended with social fields (counts, follow lists, posts, presence)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from subgraphs.social import _context as ctx
from subgraphs.social import loaders
from subgraphs.social.services import follows, posts, realtime
from subgraphs.social.types.pagination import Connection, PageInfo, connection

if TYPE_CHECKING:
    from subgraphs.social.types.post import Post
    from subgraphs.social.types.presence import Presence

__all__ = [
    "BlockedUserConnection",
    "BlockedUserEdge",
    "FollowConnection",
    "FollowEdge",
    "FollowRequestConnection",
    "FollowRequestEdge",
    "PrivacySettings",
    "User",
]


@strawberry.type
class FollowEdge:
    cursor: str
    followed_at: datetime
    # identity's entity: nullable, so a follow of a user identity cannot resolve nulls this
    # edge's node, not the whole follower/following list (docs/entity-references.md).
    node: User | None


@strawberry.type
class FollowConnection:
    edges: list[FollowEdge]
    page_info: PageInfo


@strawberry.type
class FollowRequestEdge:
    cursor: str
    requested_at: datetime
    node: User | None  # identity's entity: nullable (docs/entity-references.md)


@strawberry.type
class FollowRequestConnection:
    edges: list[FollowRequestEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Any) -> FollowRequestConnection:
        return cls(
            edges=[FollowRequestEdge(cursor=c, requested_at=e.requested_at, node=User(id=strawberry.ID(e.user_id)))
                   for e, c in zip(page.items, page.cursors, strict=True)],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type
class BlockedUserEdge:
    cursor: str
    blocked_at: datetime
    node: User | None  # identity's entity: nullable (docs/entity-references.md)


@strawberry.type
class BlockedUserConnection:
    edges: list[BlockedUserEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Any) -> BlockedUserConnection:
        return cls(
            edges=[BlockedUserEdge(cursor=c, blocked_at=e.blocked_at, node=User(id=strawberry.ID(e.user_id)))
                   for e, c in zip(page.items, page.cursors, strict=True)],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type(description="The caller's privacy choices.")
class PrivacySettings:
    is_private: bool = strawberry.field(
        description="Follows need the owner's approval; FOLLOWERS posts reach approved followers only.")
    allow_group_adds_from_following: bool = strawberry.field(
        description="People the caller follows may add it to groups; anyone else sends an invitation.")


def _follow_connection(page: Any) -> FollowConnection:
    return FollowConnection(
        edges=[
            FollowEdge(cursor=c, followed_at=e.followed_at, node=User(id=strawberry.ID(e.user_id)))
            for e, c in zip(page.items, page.cursors, strict=True)
        ],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
    )


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    @strawberry.field
    async def followers_count(self, info: Info[Any, Any]) -> int:
        return (await loaders.load_stats(info, str(self.id))).followers_count

    @strawberry.field
    async def following_count(self, info: Info[Any, Any]) -> int:
        return (await loaders.load_stats(info, str(self.id))).following_count

    @strawberry.field
    async def posts_count(self, info: Info[Any, Any]) -> int:
        return (await loaders.load_stats(info, str(self.id))).posts_count

    @strawberry.field(description="Whether the caller follows this user (false when anonymous).")
    async def is_followed_by_me(self, info: Info[Any, Any]) -> bool:
        viewer = ctx.viewer_id(info)
        if viewer is None or viewer == self.id:
            return False
        return await loaders.load_is_followed(info, viewer, str(self.id))

    @strawberry.field(description="Whether follows of this account need its approval.")
    async def is_private(self, info: Info[Any, Any]) -> bool:
        return await loaders.load_is_private(info, str(self.id))

    @strawberry.field(description="Whether the caller asked to follow this user and awaits approval.")
    async def follow_request_pending(self, info: Info[Any, Any]) -> bool:
        viewer = ctx.viewer_id(info)
        if viewer is None or viewer == self.id:
            return False
        return await loaders.load_requested_by(info, viewer, str(self.id))

    @strawberry.field(description="Whether the caller blocked this user (the caller's own blocks only).")
    async def is_blocked_by_me(self, info: Info[Any, Any]) -> bool:
        viewer = ctx.viewer_id(info)
        if viewer is None or viewer == self.id:
            return False
        return await loaders.load_blocked_by(info, viewer, str(self.id))

    @strawberry.field(directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges"])])
    async def followers(self, info: Info[Any, Any], first: int = 20, after: str | None = None) -> FollowConnection:
        async with ctx.session(info) as session:
            page = await follows.list_followers(
                session=session, user_id=str(self.id), first=ctx.page_size(info, first), after=after
            )
        return _follow_connection(page)

    @strawberry.field(directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges"])])
    async def following(self, info: Info[Any, Any], first: int = 20, after: str | None = None) -> FollowConnection:
        async with ctx.session(info) as session:
            page = await follows.list_following(
                session=session, user_id=str(self.id), first=ctx.page_size(info, first), after=after
            )
        return _follow_connection(page)

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Posts by this user that the caller may see, newest first.")
    async def posts(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> Connection[Annotated[Post, strawberry.lazy("subgraphs.social.types.post")]]:
        from subgraphs.social.types.post import Post

        async with ctx.session(info) as session:
            page = await posts.list_user_posts(
                session=session, viewer_id=ctx.viewer_id(info), author_id=str(self.id),
                first=ctx.page_size(info, first), after=after,
            )
        return connection(page, Post.from_row)

    @strawberry.field
    async def presence(
        self, info: Info[Any, Any]
    ) -> Annotated[Presence, strawberry.lazy("subgraphs.social.types.presence")]:
        from subgraphs.social.types.presence import Presence

        [state] = await realtime.get_presence(ctx.kv(info), user_ids=[str(self.id)])
        return Presence.from_state(state)
