"""The schema contract: schema/ and supergraph.yaml match what the subgraphs' code produces."""

from __future__ import annotations

import shutil

import pytest

from devstack.export import (
    DEV_PORTS,
    REGENERATE,
    ROOT,
    available_subgraphs,
    render_config,
    render_contract,
    routing_url,
    stale_files,
)
from gateway.compose import SubgraphSource
from tests.gateway.compose._harness import (
    ensure_oracle_installed,
    node_missing_reason,
    normalise_sdl,
    run_oracle,
    sdl_diff,
)


def test_checked_in_contract_is_current() -> None:
    stale = stale_files()
    assert not stale, (
        f"schema contract is stale ({', '.join(stale)}): run `{REGENERATE}` and commit "
        "schema/ and supergraph.yaml"
    )


def test_checked_in_supergraph_is_what_apollo_composes() -> None:
    reason = node_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    ensure_oracle_installed()
    names = available_subgraphs()
    sources = [
        SubgraphSource(
            name=name,
            url=routing_url(name),
            sdl=(ROOT / "schema" / f"{name}.graphql").read_text(encoding="utf-8"),
        )
        for name in names
    ]
    reference = run_oracle({"contract": sources})["contract"]
    assert not reference["errors"], reference["errors"]
    expected = normalise_sdl(reference["supergraphSdl"])
    actual = normalise_sdl((ROOT / "schema" / "supergraph.graphql").read_text(encoding="utf-8"))
    assert actual == expected, sdl_diff(expected, actual, expected_name="apollo", actual_name="ours")


def test_only_subgraphs_with_a_schema_module_are_listed(tmp_path) -> None:
    for name in ("wallet", "identity", "unknown"):
        (tmp_path / "subgraphs" / name).mkdir(parents=True)
        (tmp_path / "subgraphs" / name / "schema.py").write_text("")
    (tmp_path / "subgraphs" / "social").mkdir()  # no schema.py yet: not listed
    assert available_subgraphs(tmp_path) == ["identity", "wallet"]
    config = render_config(["identity", "wallet"])
    assert "  identity:\n    routing_url: http://127.0.0.1:4101/graphql\n" in config
    assert "      file: schema/wallet.graphql\n" in config
    assert DEV_PORTS["moderation"] == 4106


def test_stale_files_names_changed_missing_and_orphaned_files(tmp_path) -> None:
    names = available_subgraphs()
    if not names:
        pytest.skip("no subgraph with a schema.py exists yet")
    for name in names:
        (tmp_path / "subgraphs" / name).mkdir(parents=True)
        shutil.copy(ROOT / "subgraphs" / name / "schema.py", tmp_path / "subgraphs" / name)
    (tmp_path / "schema").mkdir()
    for path, content in render_contract(tmp_path).items():
        (tmp_path / path).write_text(content)
    assert stale_files(tmp_path) == []
    (tmp_path / "schema" / "ghost.graphql").write_text("type Query { ghost: Int }\n")
    first = tmp_path / "schema" / f"{names[0]}.graphql"
    first.write_text(first.read_text() + "\n# edited by hand\n")
    (tmp_path / "supergraph.yaml").unlink()
    assert sorted(stale_files(tmp_path)) == sorted(
        [f"schema/{names[0]}.graphql", "schema/ghost.graphql", "supergraph.yaml"]
    )
