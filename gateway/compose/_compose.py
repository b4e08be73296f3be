"""The composition pipeline: parse each subgraph, validate it, merge, check satisfiability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._print import print_supergraph
from ._subgraph import build_subgraph
from .errors import CompositionError, CompositionHint
from .merge import Merger


@dataclass(frozen=True, slots=True)
class SubgraphSource:
    """One subgraph as composition sees it: its name, routing URL and federation SDL."""

    name: str
    url: str
    sdl: str


@dataclass(frozen=True, slots=True)
class CompositionResult:
    """Either a supergraph SDL (errors empty) or every error found (supergraph_sdl None)."""

    supergraph_sdl: str | None
    errors: tuple[CompositionError, ...] = ()
    hints: tuple[CompositionHint, ...] = ()

    @property
    def ok(self) -> bool:
        return self.supergraph_sdl is not None


def compose(subgraphs: Sequence[SubgraphSource]) -> CompositionResult:
    """Compose subgraphs into a supergraph, reporting all errors at once rather than the first."""
    from .satisfiability import check_satisfiability
    from .validate import validate_subgraph

    errors: list[CompositionError] = []
    names = [s.name for s in subgraphs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(
            CompositionError("INVALID_SUBGRAPH_NAME", f'Duplicate subgraph name "{name}"', name)
        )
    built = []
    usages = []
    for source in sorted(subgraphs, key=lambda s: s.name):
        subgraph, problems = build_subgraph(source.name, source.url, source.sdl)
        errors.extend(problems)
        if subgraph is None:
            continue
        usage, problems = validate_subgraph(subgraph)
        errors.extend(problems)
        built.append(subgraph)
        usages.append(usage)
    if not subgraphs:
        errors.append(CompositionError("NO_SUBGRAPHS", "No subgraphs to compose", None, None))
    if errors:
        # A subgraph that does not stand on its own cannot be merged meaningfully; report what we
        # have, plus the cross-subgraph errors among those that do parse.
        if len(built) > 0 and all(e.code != "INVALID_GRAPHQL" for e in errors):
            merger = Merger(built, usages)
            merger.merge()
            errors.extend(e for e in merger.errors if e not in errors)
        return CompositionResult(None, tuple(errors), ())
    merger = Merger(built, usages)
    supergraph = merger.merge()
    if supergraph is None:
        return CompositionResult(None, tuple(merger.errors), tuple(merger.hints))
    problems = check_satisfiability(supergraph, built)
    if problems:
        return CompositionResult(None, tuple(problems), tuple(merger.hints))
    return CompositionResult(print_supergraph(supergraph), (), tuple(merger.hints))
