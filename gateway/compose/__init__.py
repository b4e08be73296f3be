"""Supergraph composition in Python: subgraph SDLs in, a supergraph SDL or every error out."""

from ._compose import CompositionResult, SubgraphSource, compose
from .config import (
    ConfigError,
    SdlFetchError,
    SubgraphConfig,
    fetch_sdl,
    load_config,
    load_sources,
)
from .errors import CompositionError, CompositionHint

__all__ = [
    "CompositionError",
    "CompositionHint",
    "CompositionResult",
    "ConfigError",
    "SdlFetchError",
    "SubgraphConfig",
    "SubgraphSource",
    "compose",
    "fetch_sdl",
    "load_config",
    "load_sources",
]
