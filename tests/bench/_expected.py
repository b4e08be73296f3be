"""The oracle: a query's expected data computed WITHOUT the gateway.

One plain, non-federated graphql-core schema serves the same data with the federated schema's
semantics (as the shared peer benchmark's `load/expected.mjs` does), so the gateway's answer is
checked against something that shares none of its planning or merging code.
"""

from __future__ import annotations

from typing import Any

from graphql import build_schema, graphql_sync

from tests.bench.subgraphs.data import (
    AUTHOR_ID,
    IN_STOCK,
    PRODUCT_BY_UPC,
    USER_BY_ID,
    USERS,
    ProductRow,
    ReviewRow,
    UserRow,
    reviews_of_product,
    reviews_of_user,
    top_products,
)

_SCHEMA = build_schema(
    """
    type Query {
      me: User
      user(id: ID!): User
      users: [User]
      topProducts(first: Int = 5): [Product]
    }
    type User { id: ID! name: String username: String birthday: Int reviews: [Review] }
    type Product {
      upc: String! name: String price: Int weight: Int
      inStock: Boolean shippingEstimate: Int reviews: [Review]
    }
    type Review { id: ID! body: String product: Product author: User }
    """
)


# graphql-core's default resolver calls callables, so lazy fields are lambdas taking `info`.
def _user(row: UserRow) -> dict[str, Any]:
    return {**row, "reviews": lambda _info: [_review(r) for r in reviews_of_user()]}


def _product(row: ProductRow) -> dict[str, Any]:
    return {
        **row,
        "inStock": IN_STOCK[row["upc"]],
        "shippingEstimate": None,  # the workload's inventory answers null (see subgraphs/inventory.py)
        "reviews": lambda _info: [_review(r) for r in reviews_of_product(row["upc"])],
    }


def _review(row: ReviewRow) -> dict[str, Any]:
    return {
        "id": row["id"],
        "body": row["body"],
        "product": lambda _info: _product(PRODUCT_BY_UPC[row["upc"]]),
        "author": lambda _info: _user(USER_BY_ID[AUTHOR_ID]),
    }


_ROOT = {
    "me": lambda _info: _user(USERS[0]),
    "user": lambda _info, id: _user(USER_BY_ID[id]) if id in USER_BY_ID else None,
    "users": lambda _info: [_user(row) for row in USERS],
    "topProducts": lambda _info, first=5: [_product(row) for row in top_products(first)],
}


def expected_response(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """`{"data": ...}` as a correct gateway answers it; raises if the query itself is wrong."""
    result = graphql_sync(_SCHEMA, query, root_value=_ROOT, variable_values=variables)
    if result.errors:
        raise ValueError(f"the oracle rejects the query: {[e.message for e in result.errors]}")
    return {"data": result.data}
