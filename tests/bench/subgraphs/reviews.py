"""reviews: owns Review and adds User.reviews and Product.reviews."""

from __future__ import annotations

import strawberry

from .data import (
    AUTHOR_ID,
    REVIEW_BY_ID,
    USER_BY_ID,
    ReviewRow,
    reviews_of_product,
    reviews_of_user,
)


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    username: str | None = strawberry.federation.field(external=True, default=None)

    @strawberry.field
    def reviews(self) -> list[Review | None] | None:
        return [_review(row) for row in reviews_of_user()]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return User(id=id)


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str

    @strawberry.field
    def reviews(self) -> list[Review | None] | None:
        return [_review(row) for row in reviews_of_product(self.upc)]

    @classmethod
    def resolve_reference(cls, upc: str) -> Product:
        return Product(upc=upc)


@strawberry.federation.type(keys=["id"])
class Review:
    id: strawberry.ID
    body: str | None
    upc: strawberry.Private[str]

    @strawberry.field
    def product(self) -> Product | None:
        return Product(upc=self.upc)

    @strawberry.federation.field(provides=["username"])
    def author(self) -> User | None:
        # @provides: the author's username comes from this subgraph
        return User(id=strawberry.ID(AUTHOR_ID), username=USER_BY_ID[AUTHOR_ID]["username"])

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Review | None:
        row = REVIEW_BY_ID.get(str(id))
        return _review(row) if row else None


def _review(row: ReviewRow) -> Review:
    return Review(id=strawberry.ID(row["id"]), body=row["body"], upc=row["upc"])


schema = strawberry.federation.Schema(types=[User, Product, Review], federation_version="2.3")
