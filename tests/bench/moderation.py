"""`make bench` rows for moderation: synchronous text checks on its internal port.

Serves moderation (SQLite in a scratch directory, its bundled model loaded) in this process and
calls `POST /internal/moderation/check` as social would, with social's service credential, from
a few concurrent callers back to back. Two rows: the round trip a caller sees (checks per
second, latency percentiles) and the classification alone inside moderation (the verdicts'
recorded `latencyMs`). Texts rotate over clean, abusive (English and Arabic) and spam samples,
each made unique so the repeated-text rule does not turn them all into spam.

    .venv/bin/python tests/bench/moderation.py [--duration 10] [--warmup 2] [--connections 8]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLES = (
    "Had a lovely walk in the park with my family this morning",
    "shut up you stupid idiot, nobody wants your crap",
    "صباح الخير يا أصدقائي، يوم سعيد",
    "يا ابن الكلب",
    " ".join(f"cheap followers https://spam{i}.example.xyz" for i in range(5)),
    "Congratulations on the new job, you deserve it! @ana @omar",
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(*, duration: float, warmup: float, connections: int) -> dict[str, Any]:
    from shared.auth import SigningKeys
    from shared.errors import TributaryError
    from shared.internal import InternalClient
    from shared.redis import MemoryStore, create_kv
    from shared.service_auth import ServiceIdentity, public_key_text
    from shared.testing import start_server
    from subgraphs.moderation.app import create_app
    from subgraphs.moderation.config import ModerationSettings
    from subgraphs.moderation.internal import CHECK_PATH

    keys = {n: SigningKeys.generate() for n in ("moderation", "social")}
    with tempfile.TemporaryDirectory() as scratch:
        settings = ModerationSettings(
            environment="test", port=0, data_dir=scratch, log_level="WARNING",
            database_url=f"sqlite+aiosqlite:///{scratch}/moderation.db",
            service_key=keys["moderation"].to_pem().decode(),
            service_public_keys={n: public_key_text(k) for n, k in keys.items()})
        served = await start_server(create_app(settings, kv=create_kv(
            None, prefix="bench:moderation:", store=MemoryStore())), lifespan="on")
        client = InternalClient(ServiceIdentity(name="social", keys=keys["social"]),
                                {"moderation": served.app.state.internal_url})
        counter = itertools.count()
        round_trips: list[float] = []
        inside: list[float] = []
        failures = 0
        measuring = False

        async def caller(stop_at: float) -> None:
            nonlocal failures
            while time.perf_counter() < stop_at:
                n = next(counter)
                body = {"surface": "post", "text": f"{SAMPLES[n % len(SAMPLES)]} #{n}",
                        "authorId": f"bench-{n % 50}"}
                started = time.perf_counter()
                try:
                    answer = await client.call("moderation", CHECK_PATH, body)
                except TributaryError:
                    failures += measuring
                    continue
                if measuring:
                    round_trips.append((time.perf_counter() - started) * 1000.0)
                    inside.append(float(answer["latencyMs"]))

        try:
            await asyncio.gather(*(caller(time.perf_counter() + warmup) for _ in range(connections)))
            measuring = True
            started = time.perf_counter()
            await asyncio.gather(*(caller(started + duration) for _ in range(connections)))
            elapsed = time.perf_counter() - started
        finally:
            await client.close()
            await served.stop()
    return {"elapsed": elapsed, "round_trips": round_trips, "inside": inside,
            "failures": failures, "connections": connections}


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    trips, inside = result["round_trips"], result["inside"]
    if not trips:
        return [{"scenario": "moderation text check", "failures": result["failures"],
                 "error": True, "note": "no check answered"}]
    rps = len(trips) / result["elapsed"]
    callers = result["connections"]
    return [
        {"scenario": f"moderation text check, {callers} caller(s) (round trip)", "rps": round(rps, 1),
         "p50_ms": round(statistics.median(trips), 2), "p95_ms": round(_percentile(trips, 0.95), 2),
         "p99_ms": round(_percentile(trips, 0.99), 2), "failures": result["failures"],
         "note": "back to back with social's credential; includes storing the verdict (SQLite)"},
        {"scenario": f"moderation text check, {callers} caller(s) (classify inside)", "rps": round(rps, 1),
         "p50_ms": round(statistics.median(inside), 2), "p95_ms": round(_percentile(inside, 0.95), 2),
         "p99_ms": round(_percentile(inside, 0.99), 2), "failures": result["failures"],
         "note": "model + rules per text, as each verdict records it"},
    ]


def _measure_on_uvloop(**options: Any) -> dict[str, Any]:
    # uvloop, as moderation runs in production (`make run`, uvicorn's default loop): on the
    # default asyncio loop one loopback HTTP round trip alone costs tens of milliseconds here.
    import uvloop

    return uvloop.run(measure(**options))


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The `make bench` rows (tests/bench/run.py awaits this)."""
    table = []
    for callers in sorted({1, min(args.connections, 8)}):
        table += rows(await asyncio.to_thread(_measure_on_uvloop, duration=args.duration,
                                              warmup=args.warmup, connections=callers))
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "10")))
    parser.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", "2")))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", "8")))
    args = parser.parse_args()
    from tests.bench._report import render_table

    table = rows(_measure_on_uvloop(duration=args.duration, warmup=args.warmup,
                                    connections=args.connections))
    print(render_table(table))
    return 1 if any(r.get("error") for r in table) else 0


if __name__ == "__main__":
    sys.exit(main())
