"""Threaded comments."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from subgraphs.social import _context as ctx
from subgraphs.social import loaders
from subgraphs.social.models import Comment as CommentRow
from subgraphs.social.services import comments
from subgraphs.social.types.pagination import Connection, connection
from subgraphs.social.types.user import User

if TYPE_CHECKING:
    from subgraphs.social.types.post import Post

__all__ = ["Comment"]


@strawberry.type
class Comment:
    id: strawberry.ID
    text: str
    created_at: datetime
    replies_count: int
    parent_id: strawberry.ID | None
    held: bool = strawberry.field(description="Held for review: only its author sees it.")
    post_id: strawberry.Private[str]
    author_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: CommentRow) -> Comment:
        return cls(
            id=strawberry.ID(row.id), text=row.text, created_at=row.created_at,
            replies_count=row.replies_count,
            parent_id=strawberry.ID(row.parent_id) if row.parent_id else None,
            held=row.moderation_state != "visible", post_id=row.post_id, author_id=row.author_id,
        )

    @strawberry.field
    def author(self) -> User | None:  # identity's entity: nullable (docs/entity-references.md)
        return User(id=strawberry.ID(self.author_id))

    @strawberry.field
    async def post(
        self, info: Info[Any, Any]
    ) -> Annotated[Post, strawberry.lazy("subgraphs.social.types.post")] | None:
        from subgraphs.social.types.post import Post

        row = await loaders.load_post(info, self.post_id)
        return Post.from_row(row) if row is not None else None

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Direct replies, oldest first.")
    async def replies(self, info: Info[Any, Any], first: int = 20, after: str | None = None) -> Connection[Comment]:
        async with ctx.session(info) as session:
            page = await comments.list_comments(
                session=session, viewer_id=ctx.viewer_id(info), post_id=self.post_id,
                parent_id=str(self.id), first=ctx.page_size(info, first), after=after,
            )
        return connection(page, Comment.from_row)
