"""Assembly of the wallet subgraph's federation schema."""

from __future__ import annotations

import strawberry

from shared.errors import TributaryErrorExtension
from subgraphs.wallet.resolvers.mutation import Mutation
from subgraphs.wallet.resolvers.query import Query
from subgraphs.wallet.resolvers.subscription import Subscription
from subgraphs.wallet.types.post import Post
from subgraphs.wallet.types.tip import Tip
from subgraphs.wallet.types.user import User

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[User, Post, Tip],
    federation_version="2.9",
    extensions=[TributaryErrorExtension],
)
