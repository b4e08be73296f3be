"""Supergraph composition in Python: subgraph SDLs in, a supergraph SDL or every error out."""

from ._compose import CompositionResult, SubgraphSource, compose
from .errors import CompositionError, CompositionHint

__all__ = [
    "CompositionError",
    "CompositionHint",
    "CompositionResult",
    "SubgraphSource",
    "compose",
]
