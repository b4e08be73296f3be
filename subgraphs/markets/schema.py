"""Assembly of the markets subgraph's federation schema."""

from __future__ import annotations

import strawberry

from shared.errors import TributaryErrorExtension
from subgraphs.markets.resolvers.mutation import Mutation
from subgraphs.markets.resolvers.query import Query
from subgraphs.markets.types.bounty import Bounty, BountyApplication
from subgraphs.markets.types.user import User

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    types=[User, Bounty, BountyApplication],
    federation_version="2.7",
    extensions=[TributaryErrorExtension],
)
