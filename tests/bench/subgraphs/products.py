"""products: owns Product (upc, name, price, weight) and topProducts."""

from __future__ import annotations

import strawberry

from .data import PRODUCT_BY_UPC, ProductRow, top_products


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str
    name: str | None
    price: int | None
    weight: int | None

    @classmethod
    def resolve_reference(cls, upc: str) -> Product | None:
        row = PRODUCT_BY_UPC.get(upc)
        return _product(row) if row else None


def _product(row: ProductRow) -> Product:
    return Product(upc=row["upc"], name=row["name"], price=row["price"], weight=row["weight"])


@strawberry.type
class Query:
    @strawberry.field
    def top_products(self, first: int | None = 5) -> list[Product | None] | None:
        return [_product(row) for row in top_products(first)]


schema = strawberry.federation.Schema(query=Query, federation_version="2.3")
