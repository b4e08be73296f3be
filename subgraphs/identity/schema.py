"""The identity subgraph's federation schema (assembly only)."""

from __future__ import annotations

import strawberry

from subgraphs.identity.resolvers import Mutation, Query
from subgraphs.identity.types import User

__all__ = ["FEDERATION_VERSION", "schema"]

FEDERATION_VERSION = "2.7"

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    types=[User],
    federation_version=FEDERATION_VERSION,
)
