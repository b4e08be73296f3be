"""Assembly of the social subgraph's federation schema."""

from __future__ import annotations

import strawberry

from shared.errors import TributaryErrorExtension
from subgraphs.social.resolvers.mutation import Mutation
from subgraphs.social.resolvers.query import Query
from subgraphs.social.resolvers.subscription import Subscription
from subgraphs.social.types.media import Media
from subgraphs.social.types.post import Post
from subgraphs.social.types.user import User

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[User, Post, Media],
    federation_version="2.9",
    extensions=[TributaryErrorExtension],
)
