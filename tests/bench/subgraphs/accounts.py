"""accounts: owns User (id, name, username, birthday) and the user root fields."""

from __future__ import annotations

import strawberry

from .data import USER_BY_ID, USERS, UserRow


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    name: str | None
    # shareable because reviews @provides it on Review.author
    username: str | None = strawberry.federation.field(shareable=True)
    birthday: int | None

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User | None:
        row = USER_BY_ID.get(str(id))
        return _user(row) if row else None


def _user(row: UserRow) -> User:
    return User(
        id=strawberry.ID(row["id"]), name=row["name"], username=row["username"], birthday=row["birthday"]
    )


@strawberry.type
class Query:
    @strawberry.field
    def me(self) -> User | None:
        return _user(USERS[0])

    @strawberry.field
    def user(self, id: strawberry.ID) -> User | None:
        row = USER_BY_ID.get(str(id))
        return _user(row) if row else None

    @strawberry.field
    def users(self) -> list[User | None] | None:
        return [_user(row) for row in USERS]


schema = strawberry.federation.Schema(query=Query, federation_version="2.3")
