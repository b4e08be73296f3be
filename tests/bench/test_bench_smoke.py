"""`make bench` keeps working: the harness end to end for ~2 s per scenario at 2 connections."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench._report import parse_table

RUNNER = Path(__file__).resolve().parent / "run.py"


def _run_bench(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, str]]]:
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--duration", "2", "--warmup", "1", "--connections", "2",
         "--results-dir", str(tmp_path), *extra],
        capture_output=True, text=True, timeout=200, check=False,
    )
    assert done.returncode == 0, f"bench failed:\n{done.stdout}\n{done.stderr}"
    return done, parse_table(done.stdout)


@pytest.mark.timeout(240)
def test_bench_runs_both_query_scenarios_without_failures(tmp_path: Path) -> None:
    done, rows = _run_bench(tmp_path, "--only", "heavy,small")

    assert [row["scenario"] for row in rows] == ["heavy", "small"]
    for row in rows:
        assert row["failures"] == "0", done.stdout
        assert float(row["RPS"]) > 0
        assert float(row["p50 ms"]) <= float(row["p95 ms"]) <= float(row["p99 ms"])
        assert float(row["gateway max RSS MB"]) > 0
        assert float(row["subgraph req/op"]) >= 0
    # the heavy query fans out to several subgraphs, the small one asks products alone
    idle = {row["scenario"]: int(row["fetches/op idle"]) for row in rows}
    assert idle["heavy"] > 1 and idle["small"] == 1
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["meta"]["supergraph"] == "tributary-compose"
    assert [row["load"]["requests"] > 0 for row in saved["rows"]] == [True, True]
    assert (tmp_path / "table.md").read_text() == done.stdout



# A "gateway" that is up (answers `{ __typename }`) but answers every query with the wrong data.
WRONG_GATEWAY = r'''
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        body = b'{"data":{"__typename":"Query"}}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
'''


@pytest.mark.timeout(120)
def test_a_gateway_answering_wrong_data_fails_the_bench(tmp_path: Path) -> None:
    (tmp_path / "wrong.py").write_text(WRONG_GATEWAY)
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--duration", "1", "--warmup", "0", "--connections", "1",
         "--only", "small", "--results-dir", str(tmp_path),
         "--gateway-cmd", f'exec "{sys.executable}" "{tmp_path / "wrong.py"}"'],
        capture_output=True, text=True, timeout=100, check=False,
    )

    assert done.returncode == 1, done.stderr
    [row] = parse_table(done.stdout)
    assert (row["scenario"], row["failures"], row["RPS"]) == ("small", "1", "–")
    assert "small: first response differs from the expected data" in done.stdout
    assert "FAILED: small" in done.stderr
