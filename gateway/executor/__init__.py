"""Plan execution against subgraphs, and response shaping."""

from .engine import Engine, Limits, PreparedOperation, RequestError
from .fetch import ClientOptions, HttpSubgraphClient, SubgraphClient, SubgraphRequestError

__all__ = [
    "ClientOptions",
    "Engine",
    "HttpSubgraphClient",
    "Limits",
    "PreparedOperation",
    "RequestError",
    "SubgraphClient",
    "SubgraphRequestError",
]
