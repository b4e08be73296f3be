"""References to other subgraphs' entities: checked with their owner before anything is written.

One mechanism everywhere: the owner answers an internal lookup (`POST /internal/<kind>/lookup`
with `{"ids": [...]}` -> `{"found": [...]}`), and the answer is cached briefly. Only existence
is cached, never absence, so an id created a moment ago is found at once; an owner that cannot
answer fails the write closed (SERVICE_UNAVAILABLE) rather than letting a ghost in.

A write that depends on more than existence (social accepts only READY media of the post's
author) calls `require_matching` with the attributes it needs: the owner filters on them
itself (`{"ids": [...], "ownerId": ..., "status": ...}`), every time, since they change.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import BadUserInputError, NotFoundError
from shared.internal import InternalClient

__all__ = ["MAX_LOOKUP_IDS", "MEDIA", "POST", "USER", "EntityKind", "References", "lookup_ids"]


@dataclass(frozen=True, slots=True)
class EntityKind:
    typename: str  # as the supergraph names it
    owner: str  # the service that owns it
    path: str  # its internal lookup route


USER = EntityKind(typename="User", owner="identity", path="/internal/users/lookup")
POST = EntityKind(typename="Post", owner="social", path="/internal/posts/lookup")
MEDIA = EntityKind(typename="Media", owner="content", path="/internal/media/lookup")

# Ids per lookup: the owners refuse more, the client sends batches of at most this many.
MAX_LOOKUP_IDS = 200


def lookup_ids(body: Mapping[str, Any]) -> list[str]:
    """The `ids` of a lookup request, as every owner's lookup route accepts them."""
    ids = body.get("ids")
    if (not isinstance(ids, list) or len(ids) > MAX_LOOKUP_IDS
            or not all(isinstance(i, str) for i in ids)):
        raise BadUserInputError(f"ids must be a list of at most {MAX_LOOKUP_IDS} strings",
                                extensions={"field": "ids"})
    return ids


MAX_ID = 64  # the longest id any subgraph issues or stores as a reference


@dataclass
class References:
    """Checks ids against their owners, with a short cache of ids known to exist."""

    client: InternalClient
    ttl: float = 30.0
    size: int = 10_000
    _known: OrderedDict[tuple[str, str], float] = field(default_factory=OrderedDict)

    async def require(self, kind: EntityKind, ids: Iterable[str], *, field_name: str) -> None:
        """Pass if every id names an existing `kind`; else NOT_FOUND naming the missing ones."""
        wanted = _checked_ids(ids, field_name)
        missing = await self.missing(kind, wanted)
        if missing:
            raise _not_found(kind, missing, field_name)

    async def require_matching(self, kind: EntityKind, ids: Iterable[str], *, field_name: str,
                               where: Mapping[str, str], reason: str) -> None:
        """Pass if every id names a `kind` whose owner-side attributes equal `where` (e.g.
        `{"ownerId": me, "status": "READY"}`); else NOT_FOUND for ids that do not exist and
        BAD_USER_INPUT with `reason` for those that exist but do not match. Never cached."""
        wanted = _checked_ids(ids, field_name)
        if not wanted:
            return
        matching: set[str] = set()
        for start in range(0, len(wanted), MAX_LOOKUP_IDS):
            batch = wanted[start:start + MAX_LOOKUP_IDS]
            answer = await self.client.call(kind.owner, kind.path, {"ids": batch, **where})
            matching.update(i for i in answer.get("found", []) if isinstance(i, str))
        unmatched = [i for i in wanted if i not in matching]
        if not unmatched:
            for i in wanted:
                self._remember(kind, i, time.monotonic())
            return
        missing = await self.missing(kind, unmatched)
        if missing:
            raise _not_found(kind, missing, field_name)
        wanted_text = ", ".join(f"{k} {v}" for k, v in where.items())
        raise BadUserInputError(
            f"{kind.typename} {', '.join(repr(i) for i in unmatched)} must have {wanted_text}",
            extensions={"field": field_name, "typename": kind.typename, "ids": unmatched,
                        "reason": reason, "expected": dict(where)})

    async def missing(self, kind: EntityKind, ids: list[str]) -> list[str]:
        now = time.monotonic()
        unknown = [i for i in ids if self._known.get((kind.typename, i), 0.0) <= now]
        if not unknown:
            return []
        found: set[str] = set()
        for start in range(0, len(unknown), MAX_LOOKUP_IDS):
            batch = unknown[start:start + MAX_LOOKUP_IDS]
            answer = await self.client.call(kind.owner, kind.path, {"ids": batch})
            found.update(i for i in answer.get("found", []) if isinstance(i, str))
        for i in found:
            self._remember(kind, i, now)
        return [i for i in unknown if i not in found]

    def forget(self, kind: EntityKind, entity_id: str) -> None:
        """Drop a cached existence (the owner said it was deleted or suspended)."""
        self._known.pop((kind.typename, entity_id), None)

    def _remember(self, kind: EntityKind, entity_id: str, now: float) -> None:
        key = (kind.typename, entity_id)
        self._known[key] = now + self.ttl
        self._known.move_to_end(key)
        while len(self._known) > self.size:
            self._known.popitem(last=False)


def _checked_ids(ids: Iterable[str], field_name: str) -> list[str]:
    wanted = list(dict.fromkeys(ids))
    for entity_id in wanted:
        if not isinstance(entity_id, str) or not entity_id.strip() or len(entity_id) > MAX_ID:
            raise BadUserInputError(
                f"{field_name} must hold IDs of 1 to {MAX_ID} characters",
                extensions={"field": field_name, "reason": "INVALID_ID"})
    return wanted


def _not_found(kind: EntityKind, missing: list[str], field_name: str) -> NotFoundError:
    return NotFoundError(
        f"No {kind.typename.lower()} with id {', '.join(repr(i) for i in missing)}",
        extensions={"field": field_name, "typename": kind.typename, "ids": missing})
