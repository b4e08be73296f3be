"""Circles and their members."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from subgraphs.social import _context as ctx
from subgraphs.social import loaders
from subgraphs.social.models import Circle as CircleRow
from subgraphs.social.models import CircleMember as CircleMemberRow
from subgraphs.social.services import circles
from subgraphs.social.types.pagination import Connection, connection
from subgraphs.social.types.user import User

__all__ = ["Circle", "CircleMember", "CircleRole"]


@strawberry.enum
class CircleRole(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@strawberry.type
class CircleMember:
    role: CircleRole
    joined_at: datetime
    user_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: CircleMemberRow) -> CircleMember:
        return cls(role=CircleRole(row.role), joined_at=row.joined_at, user_id=row.user_id)

    @strawberry.field
    def user(self) -> User | None:  # identity's entity: nullable (docs/entity-references.md)
        return User(id=strawberry.ID(self.user_id))


@strawberry.type
class Circle:
    id: strawberry.ID
    name: str
    members_count: int
    created_at: datetime
    owner_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: CircleRow) -> Circle:
        return cls(
            id=strawberry.ID(row.id), name=row.name, members_count=row.members_count,
            created_at=row.created_at, owner_id=row.owner_id,
        )

    @strawberry.field
    def owner(self) -> User | None:  # identity's entity: nullable (docs/entity-references.md)
        return User(id=strawberry.ID(self.owner_id))

    @strawberry.field(description="The caller's role, or null when not a member.")
    async def my_role(self, info: Info[Any, Any]) -> CircleRole | None:
        viewer = ctx.viewer_id(info)
        if viewer is None:
            return None
        role = await loaders.load_circle_role(info, viewer, str(self.id))
        return CircleRole(role) if role is not None else None

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], sized_fields=["edges", "nodes"])],
        description="Members in joining order (members only).")
    async def members(
        self, info: Info[Any, Any], first: int = 50, after: str | None = None
    ) -> Connection[CircleMember]:
        async with ctx.session(info) as session:
            page = await circles.list_members(
                session=session, viewer_id=ctx.require_user(info), circle_id=str(self.id),
                first=ctx.page_size(info, first), after=after,
            )
        return connection(page, CircleMember.from_row)
