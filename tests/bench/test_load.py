"""The load generators check every response: a wrong body or status counts as a failure."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bench._load import LoadSpec, run_load
from tests.bench._procs import listening_socket, request, start, stop, wait_ready

PATH = "/products/graphql"
QUERY = json.dumps({"query": "{ topProducts(first: 2) { upc name } }"}).encode()
GENERATORS = [
    "python",
    pytest.param("wrk", marks=pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")),
]


@pytest.fixture(scope="module")
def products_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    sock = listening_socket()
    port = sock.getsockname()[1]
    argv = [sys.executable, "-m", "tests.bench.subgraphs.serve", "products", "--fd", str(sock.fileno())]
    log = tmp_path_factory.mktemp("products") / "log"
    process = start(argv, log=log, pass_fds=[sock.fileno()])
    sock.close()
    try:
        wait_ready(lambda: request(port, "GET", "/health")[0] == 200,
                   alive=lambda: process.poll() is None, what="products", timeout_s=60, log=log)
        yield port
    finally:
        stop(process)


def _load(tmp_path: Path, port: int, generator: str, *, expected: bytes, path: str = PATH) -> dict[str, Any]:
    (tmp_path / "body").write_bytes(QUERY)
    (tmp_path / "expected").write_bytes(expected)
    spec = LoadSpec(url=f"http://127.0.0.1:{port}{path}", body_file=tmp_path / "body",
                    expected_file=tmp_path / "expected", sample_file=tmp_path / "sample",
                    connections=2, warmup_s=0, duration_s=1, timeout_s=5, cpu=None, log=tmp_path / "log")
    windows: list[str] = []
    summary = run_load(spec, generator=generator, on_open=lambda: windows.append("open"),
                       on_close=lambda: windows.append("close"))
    assert windows == ["open", "close"]
    return summary


@pytest.mark.parametrize("generator", GENERATORS)
def test_right_answers_count_no_failures(tmp_path: Path, products_port: int, generator: str) -> None:
    status, answer = request(products_port, "POST", PATH, QUERY)
    assert status == 200 and json.loads(answer) == {
        "data": {"topProducts": [{"upc": "1", "name": "Table"}, {"upc": "2", "name": "Couch"}]}
    }

    summary = _load(tmp_path, products_port, generator, expected=answer)

    assert summary["requests"] > 0 and summary["failures"] == 0, summary
    assert 0 < summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]


@pytest.mark.parametrize("generator", GENERATORS)
def test_wrong_bodies_count_as_failures(tmp_path: Path, products_port: int, generator: str) -> None:
    _, answer = request(products_port, "POST", PATH, QUERY)

    summary = _load(tmp_path, products_port, generator, expected=answer.replace(b"Couch", b"Sofa!"))

    assert summary["requests"] > 0
    assert summary["failure_kinds"]["body_mismatch"] == summary["requests"] == summary["failures"]
    assert b"Couch" in next(tmp_path.glob("sample.*")).read_bytes()


@pytest.mark.parametrize("generator", GENERATORS)
def test_bad_statuses_count_as_failures(tmp_path: Path, products_port: int, generator: str) -> None:
    summary = _load(tmp_path, products_port, generator, expected=b"", path="/nowhere")

    assert summary["requests"] > 0
    assert summary["failure_kinds"]["non_200"] == summary["requests"] == summary["failures"]
