"""Static data of the four benchmark subgraphs: 6 users, 9 products, 11 reviews.

Counts and value sizes follow the public graphql-gateways-benchmark workload (the same shape as
the shared peer benchmark's `subgraphs/data.mjs`), so the heavy query answers the same bytes.
"""

from __future__ import annotations

from typing import Final, TypedDict


class UserRow(TypedDict):
    id: str
    name: str
    username: str
    birthday: int


class ProductRow(TypedDict):
    upc: str
    name: str
    price: int
    weight: int


class ReviewRow(TypedDict):
    id: str
    upc: str
    body: str


USERS: Final[tuple[UserRow, ...]] = (
    {"id": "1", "name": "Alpha Tester 1", "username": "alpha", "birthday": 1234567890},
    {"id": "2", "name": "Bravo Ops 2", "username": "bravo_ops2", "birthday": 1234567890},
    {"id": "3", "name": "Charlie Dev 3", "username": "charlie_dev3", "birthday": 1234567890},
    {"id": "4", "name": "Delta Design 4", "username": "delta_4", "birthday": 1234567890},
    {"id": "5", "name": "Echo Data 5", "username": "echo_data5", "birthday": 1234567890},
    {"id": "6", "name": "Foxtrot QA 6", "username": "fox_qa", "birthday": 1234567890},
)

PRODUCTS: Final[tuple[ProductRow, ...]] = (
    {"upc": "1", "name": "Table", "price": 899, "weight": 100},
    {"upc": "2", "name": "Couch", "price": 1299, "weight": 1000},
    {"upc": "3", "name": "Glass", "price": 15, "weight": 20},
    {"upc": "4", "name": "Chair", "price": 499, "weight": 100},
    {"upc": "5", "name": "TV", "price": 1299, "weight": 1000},
    {"upc": "6", "name": "Lamp", "price": 6999, "weight": 300},
    {"upc": "7", "name": "Grill", "price": 3999, "weight": 2000},
    {"upc": "8", "name": "Fridge", "price": 100000, "weight": 6000},
    {"upc": "9", "name": "Sofa", "price": 9999, "weight": 800},
)

IN_STOCK: Final[dict[str, bool]] = {
    "1": True, "2": False, "3": False, "4": False, "5": True,
    "6": True, "7": True, "8": False, "9": True,
}

_FILLER = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
    "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. "
)


def _filler(length: int, offset: int) -> str:
    """Deterministic filler text of exactly `length` characters (as data.mjs builds it)."""
    repeats = (length + offset) // len(_FILLER) + 1
    return (_FILLER * repeats)[offset : offset + length]


# (review id, product upc, body length): the reference workload's review body lengths.
_REVIEW_SHAPE: Final = (
    ("1", "1", 445), ("2", "1", 289), ("3", "1", 275), ("4", "1", 143),
    ("5", "2", 445), ("6", "2", 289), ("7", "2", 275), ("8", "2", 143),
    ("9", "3", 143), ("10", "4", 143), ("11", "4", 844),
)

REVIEWS: Final[tuple[ReviewRow, ...]] = tuple(
    {"id": id_, "upc": upc, "body": _filler(length, (int(id_) * 7) % 50)}
    for id_, upc, length in _REVIEW_SHAPE
)

# Workload quirks kept from the reference so the response has the same shape: every review's
# author is user 1, and every user's `reviews` are reviews 1 and 2.
AUTHOR_ID: Final = "1"
USER_REVIEW_IDS: Final = ("1", "2")

USER_BY_ID: Final[dict[str, UserRow]] = {user["id"]: user for user in USERS}
PRODUCT_BY_UPC: Final[dict[str, ProductRow]] = {product["upc"]: product for product in PRODUCTS}
REVIEW_BY_ID: Final[dict[str, ReviewRow]] = {review["id"]: review for review in REVIEWS}


def reviews_of_user() -> list[ReviewRow]:
    """The `reviews` of a user, whoever the user is (the reference workload's quirk)."""
    return [review for review in REVIEWS if review["id"] in USER_REVIEW_IDS]


def reviews_of_product(upc: str) -> list[ReviewRow]:
    return [review for review in REVIEWS if review["upc"] == upc]


def top_products(first: int | None) -> list[ProductRow]:
    return list(PRODUCTS[: max(0, 5 if first is None else first)])
