"""Relay-style connections over the services' keyset pages (opaque cursors, no offsets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from subgraphs.social.services._pagination import Page

__all__ = ["Connection", "Edge", "PageInfo", "connection"]

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(page: Page[Any], convert: Callable[[Any], T]) -> Connection[T]:
    edges = [Edge(cursor=c, node=convert(item)) for item, c in zip(page.items, page.cursors, strict=True)]
    return Connection(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor))
