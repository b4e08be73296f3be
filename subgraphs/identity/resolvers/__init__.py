"""Root fields of identity: thin resolvers that call services."""

from subgraphs.identity.resolvers.mutations import Mutation
from subgraphs.identity.resolvers.queries import Query

__all__ = ["Mutation", "Query"]
