"""`make bench`: Tributary's own gateway benchmark.

Starts the four benchmark subgraphs (Strawberry, memoised, uvicorn, in one process), composes
their supergraph, then for each query scenario starts `python -m gateway` in its own process,
checks its first answer against the oracle (`_expected.py`), loads it (wrk + check.lua, or the
Python generator), and prints one markdown table row: RPS, latency percentiles, failures, the
gateway's max RSS and CPU, and subgraph requests per operation.

Other modules in tests/bench/ (not starting with `_` or `test_`) are extra scenarios: one that
defines `async def run(args) -> list[dict]` is awaited in this process and its rows (keys as in
`_report.COLUMNS`, plus an optional "note"; "error": True fails the run) join the table. `args`
carries the options (duration, warmup, connections, timeout, ...) and root, results_dir, python,
gateway_cpu, load_cpu (None when not pinned) and load_generator. A module that only defines
`main()` runs in its own process with BENCH_DURATION/BENCH_WARMUP/BENCH_CONNECTIONS set; its
output goes to stderr and its exit code decides its row.

    .venv/bin/python tests/bench/run.py [--duration 15] [--warmup 5] [--connections 50]
                                        [--only heavy,small] [--load auto|wrk|python] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make `tests.bench` and `gateway` importable
    sys.path.insert(0, str(ROOT))

from tests.bench._expected import expected_response
from tests.bench._load import LoadSpec, pick_generator, run_load
from tests.bench._monitor import (
    MIB,
    MachineUsage,
    RssSampler,
    core_ticks,
    group_cpu_seconds,
    machine_usage,
)
from tests.bench._procs import free_port, listening_socket, request, start, stop, wait_ready
from tests.bench._report import render_table
from tests.bench._supergraph import bench_supergraph
from tests.bench.subgraphs.serve import NAMES

HERE = Path(__file__).resolve().parent
TYPENAME = b'{"query":"{ __typename }"}'
NOISY_PCT = 10.0  # other processes' CPU (% of a core) above which a row is flagged as noisy
BUSY_SUBGRAPHS_PCT = 70.0  # the subgraphs' CPU above which they may be what limits the gateway


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryScenario:
    name: str
    query_file: Path


BUILTIN = (
    QueryScenario(name="heavy", query_file=HERE / "queries" / "heavy.graphql"),
    QueryScenario(name="small", query_file=HERE / "queries" / "small.graphql"),
)


_STARTED = time.monotonic()


def log_progress(message: str) -> None:
    print(f"[bench {time.monotonic() - _STARTED:5.1f}s] {message}", file=sys.stderr, flush=True)


# -- subgraphs ---------------------------------------------------------------------------------


@dataclass
class Subgraphs:
    port: int
    pid: int

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{self.port}/{name}/graphql" for name in NAMES}

    def requests(self) -> int:
        """Requests the subgraphs served so far (their GET /stats counter)."""
        status, body = request(self.port, "GET", "/stats", timeout_s=10)
        assert status == 200, f"subgraphs' /stats answered {status}"
        return int(json.loads(body)["requests"])


@contextmanager
def running_subgraphs(*, cpu: int | None, logs: Path, timeout_s: float) -> Iterator[Subgraphs]:
    """The four subgraphs in one process, on the load generator's core."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    argv = [sys.executable, "-m", "tests.bench.subgraphs.serve", "--fd", str(sock.fileno())]
    process = start(argv, log=logs / "subgraphs.log", cpu=cpu, pass_fds=[sock.fileno()])
    sock.close()  # the child holds its own copy
    try:
        wait_ready(lambda: request(port, "GET", "/health", timeout_s=2)[0] == 200,
                   alive=lambda: process.poll() is None, what="subgraphs", timeout_s=timeout_s,
                   log=logs / "subgraphs.log")
        yield Subgraphs(port=port, pid=process.pid)
    finally:
        stop(process)


# -- one query scenario ------------------------------------------------------------------------


@dataclass
class Window:
    """What the measured window saw: CPU per process group, subgraph requests, machine busyness.

    wrk runs warm-up and window as two processes, and the gateway keeps working on what the first
    one abandoned, so with `fresh=True` the window opens only once the gateway is idle; and since
    each connection leaves one request in flight when wrk stops, `drain()` lets those finish and
    charges their CPU and fetches to `requests + abandoned` operations.
    """

    pgid: int
    subgraphs: Subgraphs
    fresh: bool = False
    wall: float = 0.0
    # CPU seconds of: the gateway, the subgraphs, and this harness's group (the load generator;
    # wrk counts once it is reaped, which happens before the window closes)
    groups: dict[str, float] = field(default_factory=dict)
    cores: dict[str, list[int]] = field(default_factory=dict)
    usage: MachineUsage | None = None
    subgraph_requests: int = 0
    abandoned: int = 0
    # the gateway's CPU seconds and the subgraph requests of the window's operations, drain included
    op_gateway_cpu: float = 0.0
    op_subgraph_requests: int = 0
    _started: tuple[float, int] = (0.0, 0)  # gateway CPU and subgraph requests when it opened

    def _group_cpu(self) -> dict[str, float]:
        pgids = {"gateway": self.pgid, "subgraphs": self.subgraphs.pid, "harness": os.getpgrp()}
        return {name: group_cpu_seconds(pgid) for name, pgid in pgids.items()}

    def settle(self, *, timeout_s: float = 30.0, quiet_s: float = 0.3) -> None:
        """Returns once neither the gateway's CPU time nor the subgraph counter moves for quiet_s."""
        deadline = time.monotonic() + timeout_s
        last = (-1.0, -1)
        while time.monotonic() < deadline:
            now = (group_cpu_seconds(self.pgid), self.subgraphs.requests())
            if now == last:
                return
            last = now
            time.sleep(quiet_s)

    def open(self) -> None:
        if self.fresh:
            self.settle()
        self.subgraph_requests = self.subgraphs.requests()
        self.groups = self._group_cpu()
        self.cores = core_ticks()
        self.wall = time.monotonic()

    def close(self) -> None:
        self.wall = time.monotonic() - self.wall
        start_cpu, start_requests = self.groups["gateway"], self.subgraph_requests
        self.groups = {name: cpu - self.groups[name] for name, cpu in self._group_cpu().items()}
        self.subgraph_requests = self.subgraphs.requests() - start_requests
        self.usage = machine_usage(self.cores, core_ticks())
        self.op_gateway_cpu, self.op_subgraph_requests = self.groups["gateway"], self.subgraph_requests
        self._started = (start_cpu, start_requests)

    def drain(self, *, abandoned: int) -> None:
        self.settle()
        start_cpu, start_requests = self._started
        self.abandoned = abandoned
        self.op_gateway_cpu = group_cpu_seconds(self.pgid) - start_cpu
        self.op_subgraph_requests = self.subgraphs.requests() - start_requests

    def per_op(self, completed: int) -> tuple[float | None, float | None]:
        """(gateway CPU ms, subgraph requests) per operation the gateway worked on in the window."""
        ops = completed + self.abandoned
        if not ops:
            return None, None
        return round(1000.0 * self.op_gateway_cpu / ops, 2), round(self.op_subgraph_requests / ops, 2)

    def cpu_pct(self, group: str) -> float:
        """A group's CPU over the window (100 = one core)."""
        return round(100.0 * self.groups[group] / self.wall, 1) if self.wall > 0 else 0.0

    def other_cpu_pct(self) -> float:
        """CPU that processes outside this benchmark used during the window (100 = one core)."""
        assert self.usage is not None and self.wall > 0
        return round(max(0.0, 100.0 * (self.usage.all_process_cpu_s - sum(self.groups.values())) / self.wall), 1)


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def check_first(body: bytes, status: int, expected: dict[str, Any]) -> str | None:
    """None when the gateway's answer is the oracle's, in field order too; else what is wrong."""
    if status != 200:
        return f"first response is HTTP {status}"
    try:
        answer = json.loads(body)
    except ValueError:
        return "first response is not JSON"
    if _canonical(answer) == _canonical(expected):
        return None
    if answer == expected:
        return "first response has the right data in the wrong field order"
    return "first response differs from the expected data" + (" (it has errors)" if "errors" in answer else "")


def run_query_scenario(
    scenario: QueryScenario, *, args: argparse.Namespace, subgraphs: Subgraphs, supergraph: Path, out: Path
) -> dict[str, Any]:
    """One row: a fresh gateway, its first answer checked against the oracle, then the load."""
    query = scenario.query_file.read_text()
    body = json.dumps({"query": query}).encode()
    row: dict[str, Any] = {"scenario": scenario.name, "load_generator": args.load_generator}
    port = free_port()
    log = out / f"gateway-{scenario.name}.log"
    gateway = _start_gateway(args, supergraph=supergraph, port=port, log=log)
    sampler = RssSampler(pgid=gateway.pid).start()
    try:
        row["startup_s"] = round(wait_ready(
            lambda: request(port, "POST", "/graphql", TYPENAME, timeout_s=2)[0] == 200,
            alive=lambda: gateway.poll() is None, what="gateway", timeout_s=args.start_timeout, log=log), 2)
        before = subgraphs.requests()
        status, first = request(port, "POST", "/graphql", body, timeout_s=args.timeout)
        row["fetches_per_op_idle"] = subgraphs.requests() - before
        (out / f"{scenario.name}.first-response.json").write_bytes(first)
        problem = check_first(first, status, expected_response(query))
        if problem is not None:
            row.update(failures=1, note=f"{problem}; see {out / (scenario.name + '.first-response.json')}")
            return row
        (out / f"{scenario.name}.request.json").write_bytes(body)
        (out / f"{scenario.name}.expected.json").write_bytes(first)  # checked: later answers must equal it
        row.update(_measure(scenario, args=args, port=port, pgid=gateway.pid, subgraphs=subgraphs, out=out))
        return row
    except (RuntimeError, OSError) as error:
        row.update(failures=1, note=f"{type(error).__name__}: {error}")
        return row
    finally:
        row["gateway_max_rss_mb"] = round(sampler.stop() / MIB, 1)
        stop(gateway)
        log_progress(f"{scenario.name}: done")


def _start_gateway(args: argparse.Namespace, *, supergraph: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = ([sys.executable, "-m", "gateway", "--supergraph", str(supergraph), "--port", str(port)]
            if args.gateway_cmd is None else ["bash", "-c", args.gateway_cmd])
    env = {"GATEWAY_LOG_LEVEL": os.environ.get("GATEWAY_LOG_LEVEL", "WARNING"),
           "SUPERGRAPH": str(supergraph), "PORT": str(port)}
    return start(argv, log=log, cpu=args.gateway_cpu, env=env)


def _measure(
    scenario: QueryScenario, *, args: argparse.Namespace, port: int, pgid: int, subgraphs: Subgraphs, out: Path
) -> dict[str, Any]:
    """Warm-up and measured window under load: the row's numbers and notes."""
    window = Window(pgid=pgid, subgraphs=subgraphs, fresh=args.load_generator == "wrk")
    spec = LoadSpec(
        url=f"http://127.0.0.1:{port}/graphql", body_file=out / f"{scenario.name}.request.json",
        expected_file=out / f"{scenario.name}.expected.json",
        sample_file=out / f"{scenario.name}.failing-response", connections=args.connections,
        warmup_s=args.warmup, duration_s=args.duration, timeout_s=args.timeout, cpu=args.load_cpu,
        log=out / f"load-{scenario.name}.log",
    )
    summary = run_load(spec, generator=args.load_generator, on_open=window.open, on_close=window.close)
    if args.load_generator == "wrk":
        window.drain(abandoned=args.connections)
    cpu_ms_per_op, subgraph_req_per_op = window.per_op(summary["requests"])
    usage = window.usage
    assert usage is not None, "the load generator never closed the measured window"
    failures = summary["failures"] + summary.get("warmup", {}).get("failures", 0)
    machine: dict[str, Any] = {"other_cpu_pct": window.other_cpu_pct(), "busy_pct": usage.busy_pct, "steal_pct": usage.steal_pct,
               "subgraphs_cpu_pct": window.cpu_pct("subgraphs"), "harness_cpu_pct": window.cpu_pct("harness")}
    notes = []
    if failures:
        notes.append(f"{failures} failed responses ({summary['failure_kinds']}); samples in {out}")
    if machine["other_cpu_pct"] > NOISY_PCT:
        notes.append(f"other processes used {machine['other_cpu_pct']:.0f}% of a core: noisy")
    if machine["subgraphs_cpu_pct"] > BUSY_SUBGRAPHS_PCT:
        notes.append(f"the subgraphs used {machine['subgraphs_cpu_pct']:.0f}% of a core: they may be a bottleneck")
    return {
        "rps": summary["rps"], "p50_ms": summary["latency_ms"]["p50"], "p95_ms": summary["latency_ms"]["p95"],
        "p99_ms": summary["latency_ms"]["p99"], "failures": failures,
        "gateway_cpu_pct": window.cpu_pct("gateway"),
        # CPU per operation barely depends on how much of a core the gateway got, so it is the
        # number to compare across runs on a shared machine
        "gateway_cpu_ms_per_op": cpu_ms_per_op,
        "subgraph_req_per_op": subgraph_req_per_op,
        "load": summary, "machine": machine, **({"note": "; ".join(notes)} if notes else {}),
    }


MEDIAN_KEYS = ("rps", "p50_ms", "p95_ms", "p99_ms", "gateway_cpu_pct", "gateway_cpu_ms_per_op",
               "subgraph_req_per_op")


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for repeated runs of a scenario: medians, summed failures, the largest RSS."""
    if len(runs) == 1:
        return runs[0]
    row: dict[str, Any] = {**runs[0], "rounds": runs}
    for key in MEDIAN_KEYS:
        values = [run[key] for run in runs if run.get(key) is not None]
        row[key] = statistics.median(values) if values else None
    row["failures"] = sum(run.get("failures") or 0 for run in runs)
    row["gateway_max_rss_mb"] = max(run.get("gateway_max_rss_mb") or 0 for run in runs)
    notes = [f"round {i}: {run['note']}" for i, run in enumerate(runs, 1) if run.get("note")]
    row["note"] = "; ".join([f"median of {len(runs)} rounds", *notes])
    return row


# -- scenario modules --------------------------------------------------------------------------


def discover_modules(directory: Path = HERE) -> list[str]:
    """Extra scenario modules other areas drop into tests/bench/ (subscriptions, tips, ...)."""
    return sorted(
        path.stem for path in directory.glob("*.py")
        if not path.stem.startswith(("_", "test_")) and path.stem not in {"run", "conftest"}
    )


def run_module(name: str, *, args: argparse.Namespace, package: str = "tests.bench") -> list[dict[str, Any]]:
    """The rows of one scenario module: its `run(args)` rows, or one row saying how `main()` went."""
    dotted = f"{package}.{name}"
    try:
        module = importlib.import_module(dotted)
    except Exception as error:  # noqa: BLE001 - a broken module is a row, not a crashed bench
        return [{"scenario": name, "error": True, "note": f"import failed: {type(error).__name__}: {error}"}]
    if hasattr(module, "run"):
        try:
            result = module.run(args)
            rows = asyncio.run(result) if inspect.iscoroutine(result) else result
        except Exception as error:  # noqa: BLE001
            return [{"scenario": name, "error": True, "note": f"run() failed: {type(error).__name__}: {error}"}]
        return [{"scenario": name, **row} for row in rows]
    if hasattr(module, "main"):
        return [_run_main(name, dotted, args=args)]
    return [{"scenario": name, "error": True, "note": "defines neither run(args) nor main()"}]


def _run_main(name: str, dotted: str, *, args: argparse.Namespace) -> dict[str, Any]:
    # its own process: main() may parse sys.argv and call asyncio.run; its output goes to stderr
    # so that stdout stays this runner's one table
    code = f"import importlib, sys; result = importlib.import_module({dotted!r}).main(); " \
           "sys.exit(result if isinstance(result, int) else 0)"
    env = {**os.environ, "BENCH_DURATION": str(args.duration), "BENCH_WARMUP": str(args.warmup),
           "BENCH_CONNECTIONS": str(args.connections)}
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=sys.stderr,
                              timeout=args.module_timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"scenario": name, "error": True, "note": f"main() ran past {args.module_timeout:.0f}s"}
    return {"scenario": name, "error": done.returncode != 0,
            "note": f"ran its own main() (exit {done.returncode}); its output is above"}


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tests/bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per scenario (15)")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per scenario (5)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (50)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the query scenarios, interleaved; the table shows medians (1)")
    parser.add_argument("--only", help="comma-separated scenarios (default: all): heavy, small, or a module")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk when on PATH (auto), or the Python one")
    parser.add_argument("--supergraph", choices=("compose", "checked-in"), default="compose",
                        help="compose with gateway.compose (falling back to the checked-in one), or use it")
    parser.add_argument("--gateway-cmd", help="bench another gateway build: a bash command that serves "
                        "$SUPERGRAPH on 127.0.0.1:$PORT (exec it, so SIGTERM reaches it)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="do not pin the gateway and the load to different cores with taskset")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout seconds (10)")
    parser.add_argument("--start-timeout", type=float, default=60.0, help="seconds to wait for a process (60)")
    parser.add_argument("--module-timeout", type=float, default=300.0, help="seconds for a main() module")
    parser.add_argument("--results-dir", type=Path, help="default: bench-results/<UTC time>/")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.duration <= 0 or args.warmup < 0 or args.repeat < 1:
        parser.error("--connections >= 1, --repeat >= 1, --duration > 0 and --warmup >= 0")
    return args


def pin_cpus(pin: bool) -> tuple[int | None, int | None]:
    """(gateway cpu, load cpu): the gateway alone on one core, everything else on another."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2 or shutil.which("taskset") is None:
        return None, None
    return cpus[-1], cpus[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    modules = discover_modules()
    every = [s.name for s in BUILTIN] + modules
    if args.list:
        print("\n".join(every))
        return 0
    wanted = every if not args.only else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(every))
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(every)}")
    out = args.results_dir or ROOT / "bench-results" / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    args.load_generator = pick_generator(args.load)
    args.gateway_cpu, args.load_cpu = pin_cpus(args.pin)
    args.root, args.results_dir, args.python = ROOT, out, sys.executable
    rows: list[dict[str, Any]] = []
    meta: dict[str, Any] = {"load_generator": args.load_generator, "gateway_cpu": args.gateway_cpu,
                            "load_cpu": args.load_cpu, "connections": args.connections,
                            "duration_s": args.duration, "warmup_s": args.warmup}
    queries = [s for s in BUILTIN if s.name in wanted]
    if queries:
        log_progress(f"starting subgraphs; load: {args.load_generator}; gateway cpu {args.gateway_cpu}, load cpu {args.load_cpu}")
        with running_subgraphs(cpu=args.load_cpu, logs=out, timeout_s=args.start_timeout) as subgraphs:
            supergraph = bench_supergraph(subgraphs.urls, prefer=args.supergraph)
            meta["supergraph"] = supergraph.source
            if supergraph.note:
                log_progress(supergraph.note)
                meta["supergraph_note"] = supergraph.note
            path = out / "supergraph.graphql"
            path.write_text(supergraph.sdl)
            rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in queries}
            for round_ in range(1, args.repeat + 1):  # interleaved, so a noisy minute hits every scenario
                for scenario in queries:
                    log_progress(f"{scenario.name}: {args.warmup:g}s warm-up + {args.duration:g}s at "
                        f"{args.connections} connections (round {round_}/{args.repeat})")
                    rounds[scenario.name].append(
                        run_query_scenario(scenario, args=args, subgraphs=subgraphs, supergraph=path, out=out))
            rows.extend(median_row(runs) for runs in rounds.values())
            if supergraph.note:  # the fallback supergraph: say so where the numbers are read
                for row in rows:
                    row["note"] = "; ".join(filter(None, [supergraph.note, row.get("note")]))
    for name in (m for m in modules if m in wanted):
        log_progress(f"{name}: scenario module")
        rows.extend(run_module(name, args=args))
    table = render_table(rows)
    print(table, end="", flush=True)
    (out / "table.md").write_text(table)
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2, default=str))
    log_progress(f"results in {out}")
    failed = [row["scenario"] for row in rows if row.get("error") or (row.get("failures") or 0) > 0]
    if failed:
        log_progress(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
