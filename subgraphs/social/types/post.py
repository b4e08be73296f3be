"""The `Post` entity, its visibility and reaction kinds."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from shared.errors import NotFoundError
from subgraphs.social import _context as ctx
from subgraphs.social import loaders
from subgraphs.social.models import Post as PostRow
from subgraphs.social.services import comments, posts
from subgraphs.social.types.media import Media
from subgraphs.social.types.pagination import Connection, connection
from subgraphs.social.types.user import User

if TYPE_CHECKING:
    from subgraphs.social.types.circle import Circle
    from subgraphs.social.types.comment import Comment

__all__ = ["Post", "ReactionKind", "Visibility"]


@strawberry.enum
class Visibility(Enum):
    PUBLIC = "public"
    FOLLOWERS = "followers"
    CIRCLE = "circle"


@strawberry.enum
class ReactionKind(Enum):
    LIKE = "like"
    LOVE = "love"
    LAUGH = "laugh"
    WOW = "wow"
    SAD = "sad"
    ANGRY = "angry"


@strawberry.federation.type(keys=["id"])
class Post:
    id: strawberry.ID
    text: str
    visibility: Visibility
    created_at: datetime
    reactions_count: int
    comments_count: int
    held: bool = strawberry.field(description="Moderation holds the post for review: until "
                                              "then only its author sees it.")
    author_id: strawberry.Private[str]
    circle_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: PostRow) -> Post:
        return cls(
            id=strawberry.ID(row.id), text=row.text, visibility=Visibility(row.visibility),
            created_at=row.created_at, reactions_count=row.reactions_count,
            comments_count=row.comments_count, held=row.moderation_state != "visible",
            author_id=row.author_id, circle_id=row.circle_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Info[Any, Any], id: strawberry.ID) -> Post | None:
        async with ctx.session(info) as session:
            try:
                row = await posts.get_visible_post(session=session, viewer_id=ctx.viewer_id(info), post_id=id)
            except NotFoundError:
                return None
        return cls.from_row(row)

    @strawberry.field
    def author(self) -> User | None:
        # identity's entity: nullable, so an author identity cannot resolve nulls this field,
        # not the post and every feed holding it (docs/entity-references.md).
        return User(id=strawberry.ID(self.author_id))

    @strawberry.field(
        directives=[ListSize(assumed_size=10)],
        description="References to content's Media entities, in display order.")
    async def media(self, info: Info[Any, Any]) -> list[Media | None]:
        # `[Media]!`: content's entities; one it cannot resolve is a null item, not a null post.
        return [Media(id=strawberry.ID(m)) for m in await loaders.load_media_ids(info, str(self.id))]

    @strawberry.field(description="The circle a CIRCLE post belongs to.")
    async def circle(
        self, info: Info[Any, Any]
    ) -> Annotated[Circle, strawberry.lazy("subgraphs.social.types.circle")] | None:
        from subgraphs.social.types.circle import Circle

        if self.circle_id is None:
            return None
        row = await loaders.load_circle(info, self.circle_id)
        return Circle.from_row(row) if row is not None else None

    @strawberry.field
    async def my_reaction(self, info: Info[Any, Any]) -> ReactionKind | None:
        viewer = ctx.viewer_id(info)
        if viewer is None:
            return None
        kind = await loaders.load_my_reaction(info, viewer, str(self.id))
        return ReactionKind(kind) if kind is not None else None

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Top-level comments, oldest first; replies hang off each comment.")
    async def comments(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> Connection[Annotated[Comment, strawberry.lazy("subgraphs.social.types.comment")]]:
        from subgraphs.social.types.comment import Comment

        async with ctx.session(info) as session:
            page = await comments.list_comments(
                session=session, viewer_id=ctx.viewer_id(info), post_id=str(self.id), parent_id=None,
                first=ctx.page_size(info, first), after=after,
            )
        return connection(page, Comment.from_row)
