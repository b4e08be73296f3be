"""inventory: owns Product.inStock and Product.shippingEstimate (@requires price weight)."""

from __future__ import annotations

from typing import Any

import strawberry

from .data import IN_STOCK, PRODUCT_BY_UPC


class RequiresError(Exception):
    """The gateway did not send the @requires fields, or sent wrong values."""


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str
    weight: int | None = strawberry.federation.field(external=True, default=None)
    price: int | None = strawberry.federation.field(external=True, default=None)
    in_stock: bool | None = None
    # which @requires fields the representation carried: absent and null differ
    sent: strawberry.Private[frozenset[str]] = frozenset()

    @strawberry.federation.field(requires=["price weight"])
    def shipping_estimate(self) -> int | None:
        # The reference workload answers null; checking the inputs keeps a gateway that skips
        # or garbles the @requires fetch from passing the benchmark's response check.
        if not {"price", "weight"} <= self.sent:
            raise RequiresError("shippingEstimate: representation lacks @requires fields price and weight")
        known = PRODUCT_BY_UPC.get(self.upc)
        if known is None or (self.price, self.weight) != (known["price"], known["weight"]):
            raise RequiresError(f"shippingEstimate: wrong price/weight for product {self.upc}")
        return None

    @classmethod
    def resolve_reference(cls, upc: str, **required: Any) -> Product | None:
        if upc not in IN_STOCK:
            return None
        return Product(
            upc=upc,
            price=required.get("price"),
            weight=required.get("weight"),
            in_stock=IN_STOCK[upc],
            sent=frozenset(required),
        )


schema = strawberry.federation.Schema(types=[Product], federation_version="2.3")
