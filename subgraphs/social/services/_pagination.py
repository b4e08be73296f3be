"""Opaque keyset cursors and the page shape every list service returns."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, and_, or_

from shared.errors import BadUserInputError

__all__ = ["Page", "check_first", "decode_cursor", "encode_cursor", "keyset_after"]

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    cursors: tuple[str, ...]  # one opaque cursor per item
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def encode_cursor(kind: str, *values: Any) -> str:
    """Encode a sort key; `kind` ties the cursor to one list so it cannot be replayed elsewhere."""
    parts = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = orjson.dumps([kind, *parts])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, types: Sequence[type]) -> tuple[Any, ...]:
    """Decode a cursor made by `encode_cursor(kind, ...)`; anything else is BAD_USER_INPUT."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, list) or data[0] != kind or len(data) != len(types) + 1:
            raise ValueError("wrong cursor shape")
        return tuple(_coerce(value, t) for value, t in zip(data[1:], types, strict=True))
    except (ValueError, TypeError, IndexError) as error:
        raise BadUserInputError("Invalid cursor", extensions={"argument": "after"}) from error


def _coerce(value: Any, t: type) -> Any:
    if t is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime in cursor")
        return parsed
    if t is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, t):
        raise TypeError(f"expected {t.__name__}")
    return value


def keyset_after(
    columns: Sequence[Any], values: Sequence[Any], *, descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after `values` in (columns...) order, spelled out so any index can serve it."""
    clauses = []
    for i, column in enumerate(columns):
        equal = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def check_first(first: int, *, maximum: int) -> int:
    if first < 1 or first > maximum:
        raise BadUserInputError(
            f"`first` must be between 1 and {maximum}", extensions={"argument": "first"}
        )
    return first
