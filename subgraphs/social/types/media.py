"""content's `Media` entity, referenced by id only (a stub this subgraph cannot resolve)."""

from __future__ import annotations

import strawberry
from strawberry.federation.schema_directives import Key

__all__ = ["Media"]


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)])
class Media:
    id: strawberry.ID
