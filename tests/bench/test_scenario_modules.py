"""Scenario modules other areas add to tests/bench/ become rows of the runner's table."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from tests.bench._report import parse_table, render_table
from tests.bench.run import discover_modules, run_module

MODULES = {
    "coro_rows": (
        "async def run(args):\n"
        "    return [{'rps': args.duration * 10, 'failures': 0, 'note': 'from run()'},\n"
        "            {'scenario': 'coro_rows/b', 'p99_ms': 1.5}]\n"
    ),
    "has_main": "import os, sys\ndef main():\n    print('main saw', os.environ['BENCH_DURATION'])\n    return 3\n",
    "nothing": "X = 1\n",
    "broken": "raise RuntimeError('cannot import')\n",
    "_helper": "",
    "test_thing": "",
}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "benchpkg_scenarios"
    root.mkdir()
    for name, text in MODULES.items():
        (root / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    return root


def _args() -> argparse.Namespace:
    return argparse.Namespace(duration=2.0, warmup=0.5, connections=3, module_timeout=60.0)


def test_discovery_skips_helpers_and_tests(package: Path) -> None:
    assert discover_modules(package) == ["broken", "coro_rows", "has_main", "nothing"]


def test_run_rows_join_the_table(package: Path) -> None:
    rows = run_module("coro_rows", args=_args(), package="benchpkg_scenarios")

    assert rows == [
        {"scenario": "coro_rows", "rps": 20.0, "failures": 0, "note": "from run()"},
        {"scenario": "coro_rows/b", "p99_ms": 1.5},
    ]
    table = parse_table(render_table(rows))
    assert [(r["scenario"], r["RPS"], r["p99 ms"], r["failures"]) for r in table] == [
        ("coro_rows", "20.0", "–", "0"),
        ("coro_rows/b", "–", "1.50", "–"),
    ]


def test_main_runs_in_its_own_process_and_its_exit_code_counts(
    package: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    [row] = run_module("has_main", args=_args(), package="benchpkg_scenarios")

    assert row == {"scenario": "has_main", "error": True,
                   "note": "ran its own main() (exit 3); its output is above"}
    assert "main saw 2.0" in capfd.readouterr().err


def test_modules_without_entry_points_or_that_fail_to_import_are_error_rows(package: Path) -> None:
    [nothing] = run_module("nothing", args=_args(), package="benchpkg_scenarios")
    [broken] = run_module("broken", args=_args(), package="benchpkg_scenarios")

    assert nothing == {"scenario": "nothing", "error": True, "note": "defines neither run(args) nor main()"}
    assert broken == {"scenario": "broken", "error": True,
                      "note": "import failed: RuntimeError: cannot import"}
