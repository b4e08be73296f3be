"""The identity subgraph's federation schema (assembly only)."""

from __future__ import annotations

from typing import Any, Final

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from shared.errors import BadUserInputError
from subgraphs.identity.resolvers import Mutation, Query
from subgraphs.identity.types import User

__all__ = ["FEDERATION_VERSION", "schema"]

FEDERATION_VERSION: Final = "2.9"


class _Schema(strawberry.federation.Schema):
    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # strawberry fails the whole _entities list on one unknown __typename; answer that
        # representation alone with an error at its index, as for any other bad item.
        results: list[Any] = []  # entities or the errors standing in for them
        for representation in representations:
            item: Any = representation
            name = item.get("__typename") if isinstance(item, dict) else None
            if name != "User":
                results.append(BadUserInputError(f"Unknown entity type {name!r}."))
            else:
                results.extend(super().entities_resolver(info, [FederationAny(dict(item))]))
        return results


schema = _Schema(
    query=Query,
    mutation=Mutation,
    types=[User],
    federation_version=FEDERATION_VERSION,
)
