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
    if not built:
        return CompositionResult(None, tuple(errors), ())
    # Merge whatever parsed, even next to subgraph errors, so one run reports everything a person
    # has to fix; only errors that are mere consequences of another are held back.
    merger = Merger(built, usages)
    supergraph = merger.merge()
    errors.extend(merger.errors)
    blamed = {e.coordinate.split(".")[0] for e in errors if e.coordinate}
    errors.extend(
        e
        for e in check_satisfiability(supergraph, built)
        if (e.coordinate or "").split(".")[0] not in blamed
    )
    if errors:
        return CompositionResult(None, tuple(errors), tuple(merger.hints))
    return CompositionResult(print_supergraph(supergraph), (), tuple(merger.hints))
