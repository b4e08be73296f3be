"""Assembly of the moderation subgraph's federation schema."""

from __future__ import annotations

import strawberry

from shared.errors import TributaryErrorExtension
from subgraphs.moderation.resolvers.mutation import Mutation
from subgraphs.moderation.resolvers.query import Query

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    federation_version="2.7",
    extensions=[TributaryErrorExtension],
)
