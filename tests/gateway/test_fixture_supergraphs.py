"""The checked-in supergraphs still match what the fixture subgraphs export (no node needed)."""

from __future__ import annotations

import pytest

from gateway.supergraph import parse_supergraph
from tests.gateway.fixtures.registry import (
    FIXTURES,
    placeholder_url,
    read_supergraph,
    sdl_copy_path,
    subgraph_sdl,
)

CASES = [(fixture, subgraph) for fixture, subgraphs in FIXTURES.items() for subgraph in subgraphs]


@pytest.mark.parametrize(("fixture", "subgraph"), CASES, ids=[f"{f}-{s}" for f, s in CASES])
def test_subgraph_sdl_matches_the_copy_composed(fixture, subgraph):
    stored = sdl_copy_path(fixture, subgraph).read_text(encoding="utf-8")
    assert subgraph_sdl(fixture, subgraph) == stored, (
        f"{fixture}/{subgraph} changed: re-run `python -m tests.gateway.fixtures.compose {fixture}`"
    )


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_supergraph_names_every_subgraph(fixture):
    supergraph = parse_supergraph(read_supergraph(fixture))
    assert {name: s.url for name, s in supergraph.subgraphs.items()} == {
        name: placeholder_url(fixture, name) for name in FIXTURES[fixture]
    }
