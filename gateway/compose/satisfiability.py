"""Satisfiability: every field reachable from a root must be resolvable by some plan."""

from __future__ import annotations

from collections.abc import Sequence

from ._subgraph import Subgraph
from .errors import CompositionError
from .merge import Supergraph


def check_satisfiability(
    supergraph: Supergraph, subgraphs: Sequence[Subgraph]
) -> list[CompositionError]:
    return []
