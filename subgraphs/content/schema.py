"""Assembly of the content subgraph's federation schema."""

from __future__ import annotations

import strawberry

from shared.errors import TributaryErrorExtension
from subgraphs.content.resolvers.mutation import Mutation
from subgraphs.content.resolvers.query import Query
from subgraphs.content.resolvers.subscription import Subscription
from subgraphs.content.types.media import Media
from subgraphs.content.types.user import User

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[User, Media],
    federation_version="2.7",
    extensions=[TributaryErrorExtension],
)
