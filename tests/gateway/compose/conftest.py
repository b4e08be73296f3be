"""Fixtures for composition tests: Apollo's composition run once over the whole corpus."""

from __future__ import annotations

import pytest

from tests.gateway.compose._harness import (
    case_dirs,
    ensure_oracle_installed,
    load_case,
    node_missing_reason,
    run_oracle,
)


@pytest.fixture(scope="session")
def apollo_results() -> dict[str, dict]:
    reason = node_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    ensure_oracle_installed()
    cases = {
        f"{kind}/{path.name}": load_case(path)
        for kind in ("valid", "invalid")
        for path in case_dirs(kind)
    }
    return run_oracle(cases)
