"""Drives the load generator: wrk with check.lua when wrk is on PATH, else `_pyload` in a process."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench._procs import ROOT, pinned

CHECK_SCRIPT = Path(__file__).resolve().parent / "check.lua"


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadSpec:
    url: str
    body_file: Path
    expected_file: Path
    sample_file: Path
    connections: int
    warmup_s: float
    duration_s: float
    timeout_s: float
    cpu: int | None
    log: Path


def pick_generator(requested: str) -> str:
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if requested == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("--load wrk: wrk is not on PATH")
    return requested


def run_load(
    spec: LoadSpec, *, generator: str, on_open: Callable[[], None], on_close: Callable[[], None]
) -> dict[str, Any]:
    """Warm-up, then the measured window (bracketed by the callbacks); a summary of both."""
    if generator == "wrk":
        return _run_wrk(spec, on_open=on_open, on_close=on_close)
    return _run_python(spec, on_open=on_open, on_close=on_close)


def _run_wrk(spec: LoadSpec, *, on_open: Callable[[], None], on_close: Callable[[], None]) -> dict[str, Any]:
    warmup = _wrk_once(spec, math.ceil(spec.warmup_s)) if spec.warmup_s > 0 else None
    on_open()
    measured = _wrk_once(spec, max(1, math.ceil(spec.duration_s)))
    on_close()
    return _summarize(measured, warmup)


def _wrk_once(spec: LoadSpec, seconds: int) -> dict[str, Any]:
    threads = max(1, min(2, spec.connections))
    argv = ["wrk", "-t", str(threads), "-c", str(spec.connections), "-d", f"{seconds}s",
            "--timeout", f"{math.ceil(spec.timeout_s)}s", "-s", str(CHECK_SCRIPT), spec.url]
    env = {**os.environ, "BENCH_REQUEST_FILE": str(spec.body_file),
           "BENCH_EXPECTED_FILE": str(spec.expected_file), "BENCH_SAMPLE_FILE": str(spec.sample_file)}
    done = subprocess.run(pinned(argv, spec.cpu), env=env, capture_output=True, text=True,
                          timeout=seconds + spec.timeout_s + 60, check=False)
    with open(spec.log, "a") as out:
        out.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    return _result_line(done.stdout, f"wrk exited {done.returncode}: {done.stderr.strip()[:300]}")


def _run_python(spec: LoadSpec, *, on_open: Callable[[], None], on_close: Callable[[], None]) -> dict[str, Any]:
    argv = [sys.executable, "-m", "tests.bench._pyload", "--url", spec.url,
            "--body-file", str(spec.body_file), "--expected-file", str(spec.expected_file),
            "--sample-file", f"{spec.sample_file}.1", "--connections", str(spec.connections),
            "--warmup", str(spec.warmup_s), "--duration", str(spec.duration_s),
            "--timeout", str(spec.timeout_s)]
    lines = []
    with open(spec.log, "ab") as log, subprocess.Popen(
        pinned(argv, spec.cpu), cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("BENCH_WINDOW_OPEN"):
                on_open()
            elif line.startswith("BENCH_WINDOW_CLOSE"):
                on_close()
    result = _result_line("".join(lines), f"the Python load generator exited {process.returncode}")
    return _summarize(result, result.pop("warmup"))


def _result_line(stdout: str, problem: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))  # type: ignore[no-any-return]
    raise RuntimeError(f"{problem} without a result")


def _failures(raw: dict[str, Any]) -> int:
    return int(raw["non_200"] + raw["body_mismatch"] + raw["socket_errors"])


def _summarize(raw: dict[str, Any], warmup: dict[str, Any] | None) -> dict[str, Any]:
    seconds = raw["duration_us"] / 1e6
    summary: dict[str, Any] = {
        "seconds": round(seconds, 3),
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "failures": _failures(raw),
        "failure_kinds": {k: raw[k] for k in ("non_200", "body_mismatch", "socket_errors")},
        "latency_ms": {k: round(v / 1000.0, 2) for k, v in raw["latency_us"].items()},
    }
    if warmup is not None:
        summary["warmup"] = {"requests": warmup["requests"], "failures": _failures(warmup),
                             "seconds": round(warmup["duration_us"] / 1e6, 3)}
    return summary
