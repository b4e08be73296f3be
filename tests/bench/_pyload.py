"""Closed-loop HTTP load generator for when wrk is not installed (its own process, aiohttp + uvloop).

    python -m tests.bench._pyload --url URL --body-file F --expected-file F \
        --connections N --warmup S --duration S

N connections each POST the same body back to back. Every response is checked (HTTP 200 and a body
byte-equal to the expected one). It prints BENCH_WINDOW_OPEN / BENCH_WINDOW_CLOSE as the measured
window starts and ends (the harness samples the gateway then), and finally one
`BENCH_RESULT {json}` line in the same shape as check.lua's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import uvloop

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass
class Tally:
    requests: int = 0
    non_200: int = 0
    body_mismatch: int = 0
    socket_errors: int = 0
    latencies_us: list[int] = field(default_factory=list)


@dataclass
class State:
    measuring: bool = False
    stopping: bool = False
    warmup: Tally = field(default_factory=Tally)
    window: Tally = field(default_factory=Tally)
    sample: bytes | None = None


async def _worker(session: aiohttp.ClientSession, url: str, body: bytes, expected: bytes, state: State) -> None:
    while not state.stopping:
        started = time.perf_counter()
        tally = state.window if state.measuring else state.warmup
        try:
            async with session.post(url, data=body, headers=HEADERS) as response:
                payload = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError):
            tally.socket_errors += 1
            await asyncio.sleep(0.01)  # a refused connection must not become a hot loop
            continue
        if state.stopping:
            return
        tally = state.window if state.measuring else state.warmup
        tally.requests += 1
        if status != 200:
            tally.non_200 += 1
        elif payload != expected:
            tally.body_mismatch += 1
        else:
            tally.latencies_us.append(int((time.perf_counter() - started) * 1e6))
            continue
        if state.sample is None:
            state.sample = f"HTTP {status}\n\n".encode() + payload


def _percentile(ordered: list[int], percent: float) -> int:
    if not ordered:
        return 0
    return ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))]


def _summary(tally: Tally, seconds: float) -> dict[str, object]:
    ordered = sorted(tally.latencies_us)
    return {
        "duration_us": int(seconds * 1e6),
        "requests": tally.requests,
        "non_200": tally.non_200,
        "body_mismatch": tally.body_mismatch,
        "socket_errors": tally.socket_errors,
        "latency_us": {
            "p50": _percentile(ordered, 50),
            "p95": _percentile(ordered, 95),
            "p99": _percentile(ordered, 99),
            "max": ordered[-1] if ordered else 0,
        },
    }


async def generate(args: argparse.Namespace) -> dict[str, object]:
    body = Path(args.body_file).read_bytes()
    expected = Path(args.expected_file).read_bytes()
    state = State()
    connector = aiohttp.TCPConnector(limit=args.connections, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        workers = [
            asyncio.create_task(_worker(session, args.url, body, expected, state)) for _ in range(args.connections)
        ]
        warmup_started = time.perf_counter()
        await asyncio.sleep(args.warmup)
        warmup_seconds = time.perf_counter() - warmup_started
        state.measuring = True
        print("BENCH_WINDOW_OPEN", flush=True)
        window_started = time.perf_counter()
        await asyncio.sleep(args.duration)
        state.stopping = True
        window_seconds = time.perf_counter() - window_started
        print("BENCH_WINDOW_CLOSE", flush=True)
        _done, pending = await asyncio.wait(workers, timeout=args.timeout)
        for task in pending:
            task.cancel()
    if state.sample is not None and args.sample_file:
        Path(args.sample_file).write_bytes(state.sample)
    return {**_summary(state.window, window_seconds), "warmup": _summary(state.warmup, warmup_seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--expected-file", required=True)
    parser.add_argument("--sample-file")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    result = uvloop.run(generate(args))
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
