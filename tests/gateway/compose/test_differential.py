"""Differential test: seeded random subgraph sets, composed by us and by Apollo's composition.

Where Apollo composes, we must produce the same supergraph; where it refuses, we must refuse and
report at least its error codes (we report more, since we do not stop after the first stage).
"""

from __future__ import annotations

import pytest

from gateway.compose import compose
from tests.gateway.compose._harness import (
    ensure_oracle_installed,
    node_missing_reason,
    normalise_sdl,
    run_oracle,
    sdl_diff,
)
from tests.gateway.compose._random_sets import random_sets

SETS = random_sets(seed=20261123, count=40)


@pytest.fixture(scope="module")
def apollo() -> dict[str, dict]:
    reason = node_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    ensure_oracle_installed()
    return run_oracle(SETS)


def test_the_random_sets_exercise_both_outcomes(apollo) -> None:
    outcomes = {bool(result["errors"]) for result in apollo.values()}
    assert outcomes == {True, False}


@pytest.mark.node
@pytest.mark.parametrize("name", sorted(SETS))
def test_random_set_agrees_with_apollo(name, apollo) -> None:
    reference = apollo[name]
    ours = compose(SETS[name])
    sdls = "\n".join(f"# {s.name}\n{s.sdl}" for s in SETS[name])
    apollo_codes = {e["code"] for e in reference["errors"]}
    if not apollo_codes:
        assert not ours.errors, f"{[str(e) for e in ours.errors]}\n{sdls}"
        expected = normalise_sdl(reference["supergraphSdl"])
        actual = normalise_sdl(ours.supergraph_sdl)
        assert actual == expected, sdl_diff(expected, actual, expected_name="apollo", actual_name="ours")
    else:
        assert ours.supergraph_sdl is None, f"Apollo refused with {apollo_codes}\n{sdls}"
        assert apollo_codes <= {e.code for e in ours.errors}, sdls
