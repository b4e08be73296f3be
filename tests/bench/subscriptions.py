"""Subscriptions load scenario: N WebSocket subscribers on one gateway process, events at a fixed rate.

    python tests/bench/subscriptions.py --subscribers 10000 --rooms 100 --rate 10 --duration 20

Processes: the fixture subgraphs of tests/gateway/subscriptions (chat + users, one process, which also
publishes the events), one gateway process (`python -m gateway`), and `--workers` client processes
holding the graphql-transport-ws connections. Subscriber i listens on room i % rooms to
`messageAdded { id text author { id name } }`, so every event also needs an entity fetch on `users`.
Each event's text is its publish time; a client's delivery latency is arrival time minus that.
Deliveries per second = rate x subscribers / rooms.

Reports connections held, upstream subscriptions held by the subgraph, delivered/expected, delivery
latency p50/p95/p99/max, gateway RSS before/after and per connection, and gateway CPU while publishing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SUPERGRAPH = ROOT / "tests" / "gateway" / "subscriptions" / "supergraph.graphql"
HOST = "127.0.0.1"
QUERY = "subscription($room: String!) { messageAdded(room: $room) { id text author { id name } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- role: subgraphs (chat + users) and the publisher ----------------------------------------------


async def run_subgraphs(chat_port: int, users_port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    sys.path.insert(0, str(ROOT))
    from tests.gateway.subscriptions._subgraphs import Message, Recorder, User, chat_app, users_app

    recorder = Recorder()
    published: dict[str, int] = {}

    async def publish_loop(rate: float, duration: float, rooms: int) -> None:
        interval = 1.0 / rate
        start = time.perf_counter()
        sequence = 0
        while (elapsed := time.perf_counter() - start) < duration:
            room = f"room-{sequence % rooms}"
            message = Message(id=f"m-{sequence}", room=room, text=repr(time.time()), author=User(id="u1"))  # type: ignore[arg-type]
            recorder.publish(room, message)
            published[room] = published.get(room, 0) + 1
            sequence += 1
            # pace by the schedule, not by the previous sleep, so the rate holds under load
            await asyncio.sleep(max(0.0, sequence * interval - elapsed))

    tasks: set[asyncio.Task[None]] = set()

    async def start(request: Request) -> JSONResponse:
        body = await request.json()
        task = asyncio.create_task(publish_loop(body["rate"], body["duration"], body["rooms"]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"started": True})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"active": recorder.active, "published": published, "publishing": bool(tasks)})

    chat = Starlette(routes=[Route("/publish", start, methods=["POST"]), Route("/stats", stats),
                             Mount("/", chat_app(recorder))])
    servers = [
        uvicorn.Server(uvicorn.Config(chat, host=HOST, port=chat_port, log_level="warning", loop="none",
                                      backlog=4096, ws_max_queue=1024)),
        uvicorn.Server(uvicorn.Config(users_app(recorder), host=HOST, port=users_port, log_level="warning",
                                      loop="none", backlog=4096)),
    ]
    await asyncio.gather(*(server.serve() for server in servers))


def _log_gc_pauses(role: str) -> None:
    """Print collections that stop the process for more than 20 ms (they show up as latency tails)."""
    import gc

    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pause = time.perf_counter() - started[0]
            if pause > 0.02:
                print(f"{role}: gc generation {info['generation']} paused {pause * 1000:.0f} ms "
                      f"({info['collected']} collected)", file=sys.stderr, flush=True)

    gc.callbacks.append(callback)


# -- role: gateway (only with --ws-impl; otherwise the real entry point, python -m gateway, runs) -------


def run_gateway(port: int, ws_impl: str, deflate: bool) -> int:
    import uvicorn

    sys.path.insert(0, str(ROOT))
    from gateway.config import GatewaySettings
    from gateway.server import create_app

    settings = GatewaySettings(supergraph=str(SUPERGRAPH), port=port)
    _log_gc_pauses("gateway")
    uvicorn.run(create_app(settings), host=HOST, port=port, loop="uvloop", http="httptools", ws=ws_impl,  # type: ignore[arg-type]
                ws_per_message_deflate=deflate, log_level="warning", access_log=False)
    return 0


# -- role: clients ----------------------------------------------------------------------------------


async def run_clients(url: str, count: int, offset: int, rooms: int, token: str | None, out: str) -> None:
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    state = {"connected": 0, "errors": 0, "received": 0}
    connections: list[Any] = []
    gate = asyncio.Semaphore(100)

    async def subscriber(index: int) -> None:
        async with gate:
            try:
                ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60,  # type: ignore[list-item]
                                   ping_interval=None, max_queue=64)
                init: dict[str, Any] = {"type": "connection_init"}
                if token:
                    init["payload"] = {"authorization": f"Bearer {token}-{index}" if token == "distinct" else f"Bearer {token}"}
                await ws.send(json.dumps(init))
                ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert ack["type"] == "connection_ack", ack
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                    "query": QUERY, "variables": {"room": f"room-{index % rooms}"}}}))
            except Exception as error:  # noqa: BLE001 - counted and reported
                state["errors"] += 1
                print(f"connect failed: {error!r}", file=sys.stderr)
                return
        connections.append(ws)
        state["connected"] += 1
        try:
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                if message.get("type") == "next":
                    text = message["payload"]["data"]["messageAdded"]["text"]
                    latencies.append(now - float(text))
                    state["received"] += 1
                else:
                    state["errors"] += 1
        except Exception as error:  # noqa: BLE001 - the connection ended; counted
            if not isinstance(error, asyncio.CancelledError):
                state["errors"] += 1

    _log_gc_pauses("client")
    tasks = [asyncio.create_task(subscriber(offset + i)) for i in range(count)]
    while state["connected"] + state["errors"] < count:
        await asyncio.sleep(0.2)
    # the measuring client's own full collections (thousands of live connections) would show up as
    # delivery latency; freeze what exists now so only the gateway's pauses are measured
    import gc

    gc.freeze()
    print(json.dumps({"ready": state["connected"], "errors": state["errors"]}), flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    Path(out).write_text(json.dumps({**state, "latencies": latencies}))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- driver ---------------------------------------------------------------------------------------------


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get(url: str) -> Any:
    # generous: the subgraph process may be busy accepting thousands of upstream subscriptions
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _wait_http(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _slope(marks: list[tuple[int, float]]) -> float:
    (first_held, first_rss), (last_held, last_rss) = marks[0], marks[-1]
    return (last_rss - first_rss) / max(1, last_held - first_held)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def drive(args: argparse.Namespace) -> dict[str, Any]:
    chat_port, users_port, gateway_port = free_port(), free_port(), free_port()
    me = [sys.executable, str(Path(__file__).resolve())]
    procs: list[subprocess.Popen[bytes]] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-subscriptions-"))
    try:
        procs.append(subprocess.Popen([*me, "--role", "subgraphs", "--ports", f"{chat_port},{users_port}"]))
        _wait_http(f"http://{HOST}:{chat_port}/stats")
        env = {
            **os.environ,
            "GATEWAY_SUBGRAPH_URLS": json.dumps({"chat": f"http://{HOST}:{chat_port}/graphql",
                                                 "users": f"http://{HOST}:{users_port}/graphql"}),
            "GATEWAY_MAX_CONNECTIONS_PER_USER": str(10 * args.subscribers),
            "GATEWAY_SUBSCRIPTION_DEDUPE": "true" if not args.no_dedupe else "false",
            "GATEWAY_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-m", "gateway", "--supergraph", str(SUPERGRAPH), "--port", str(gateway_port)]
        if args.ws_impl:  # the same app under another uvicorn WebSocket implementation
            command = [*me, "--role", "gateway", "--port", str(gateway_port), "--ws-impl", args.ws_impl,
                       *(["--no-deflate"] if args.no_deflate else [])]
        gateway = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        procs.append(gateway)
        _wait_http(f"http://{HOST}:{gateway_port}/health")
        rss_before = _rss_mib(gateway.pid)

        started = time.perf_counter()
        share = -(-args.subscribers // args.workers)
        clients = []
        ready = []
        rss_marks = []  # (connections held, gateway RSS) after each worker connected
        for worker in range(args.workers):
            count = min(share, args.subscribers - worker * share)
            if count <= 0:
                break
            out = workdir / f"client-{worker}.json"
            proc = subprocess.Popen(
                [*me, "--role", "clients", "--url", f"ws://{HOST}:{gateway_port}/graphql", "--count", str(count),
                 "--offset", str(worker * share), "--rooms", str(args.rooms), "--out", str(out),
                 *(["--token", args.token] if args.token else [])],
                stdout=subprocess.PIPE)
            procs.append(proc)
            clients.append((proc, out))
            # one worker at a time, so memory can be read between them
            ready.append(json.loads(proc.stdout.readline()))  # type: ignore[union-attr]
            time.sleep(0.5)
            rss_marks.append((sum(r["ready"] for r in ready), _rss_mib(gateway.pid)))
        connect_seconds = time.perf_counter() - started
        held = sum(r["ready"] for r in ready)
        time.sleep(1.0)  # let the last subscriptions reach the subgraph
        upstream = _get(f"http://{HOST}:{chat_port}/stats")["active"]
        rss_after = _rss_mib(gateway.pid)

        cpu_before = _cpu_seconds(gateway.pid)
        _post(f"http://{HOST}:{chat_port}/publish", {"rate": args.rate, "duration": args.duration, "rooms": args.rooms})
        time.sleep(args.duration)
        while _get(f"http://{HOST}:{chat_port}/stats")["publishing"]:
            time.sleep(0.1)
        cpu_busy = _cpu_seconds(gateway.pid) - cpu_before
        time.sleep(2.0)  # drain in-flight deliveries
        published = _get(f"http://{HOST}:{chat_port}/stats")["published"]
        rss_end = _rss_mib(gateway.pid)

        for proc, _ in clients:
            proc.send_signal(signal.SIGTERM)
        results = []
        for proc, out in clients:
            proc.wait(timeout=60)
            results.append(json.loads(out.read_text()))
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
            if proc.poll() is None:
                proc.kill()

    per_room = [0] * args.rooms
    for index in range(args.subscribers):
        per_room[index % args.rooms] += 1
    expected = sum(count * per_room[int(room.split("-")[1])] for room, count in published.items())
    latencies = sorted(x for r in results for x in r["latencies"])
    delivered = sum(r["received"] for r in results)
    return {
        "subscribers": args.subscribers,
        "connections_held": held,
        "connect_errors": sum(r["errors"] for r in ready),
        "connect_seconds": round(connect_seconds, 1),
        "upstream_subscriptions": upstream,
        "rooms": args.rooms,
        "events_per_second": args.rate,
        "deliveries_per_second": round(args.rate * args.subscribers / args.rooms),
        "delivered": delivered,
        "expected": expected,
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else float("nan"),
        "gateway_rss_idle_mib": round(rss_before, 1),
        "gateway_rss_held_mib": round(rss_after, 1),
        "gateway_rss_end_mib": round(rss_end, 1),
        # the slope between the first and the last worker's connections: fixed start-up costs
        # (plan cache, client sessions, lazily imported modules) do not count
        "kib_per_connection": round(_slope(rss_marks) * 1024, 1) if len(rss_marks) > 1
        else round((rss_after - rss_before) * 1024 / max(1, held), 1),
        "gateway_cpu_percent": round(100 * cpu_busy / args.duration, 1),
    }


def print_table(result: dict[str, Any]) -> None:
    width = max(len(k) for k in result)
    print()
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=["driver", "subgraphs", "clients", "gateway"], default="driver")
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10.0, help="published events per second (all rooms)")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--token", help="bearer token for every subscriber; 'distinct' = one per subscriber")
    parser.add_argument("--no-dedupe", action="store_true", help="one upstream subscription per subscriber")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    parser.add_argument("--ws-impl", help="run the gateway app with this uvicorn `ws` implementation")
    parser.add_argument("--no-deflate", action="store_true", help="with --ws-impl: no permessage-deflate")
    parser.add_argument("--ports")
    parser.add_argument("--port", type=int)
    parser.add_argument("--url")
    parser.add_argument("--count", type=int)
    parser.add_argument("--offset", type=int)
    parser.add_argument("--out")
    return parser


async def run(bench_args: argparse.Namespace) -> list[dict[str, Any]]:
    """The `make bench` row: the default scenario, measured for the bench's duration."""
    args = _parser().parse_args([])
    args.duration = bench_args.duration
    # drive() starts processes and waits on them: a worker thread keeps the runner's loop free
    result = await asyncio.to_thread(drive, args)
    missing = result["expected"] - result["delivered"]
    return [{
        "scenario": f"subscriptions, {result['connections_held']} held",
        "rps": round(result["delivered"] / args.duration, 1),
        "p50_ms": result["p50_ms"], "p95_ms": result["p95_ms"], "p99_ms": result["p99_ms"],
        "failures": max(0, missing) + result["connect_errors"],
        "gateway_max_rss_mb": result["gateway_rss_held_mib"],
        "gateway_cpu_pct": result["gateway_cpu_percent"],
        "note": (f"deliveries over WebSocket (RPS column: deliveries/s), {result['subscribers']} "
                 f"subscribers in {result['rooms']} rooms, {result['events_per_second']} events/s, "
                 f"{result['upstream_subscriptions']} upstream subscriptions, delivered "
                 f"{result['delivered']}/{result['expected']}, max {result['max_ms']} ms, "
                 f"{result['kib_per_connection']} KiB per connection; 10,000 subscribers: "
                 "python tests/bench/subscriptions.py --subscribers 10000 --rooms 100"),
    }]


def main() -> int:
    args = _parser().parse_args()
    if args.role == "gateway":
        return run_gateway(args.port, args.ws_impl, not args.no_deflate)
    if args.role in ("subgraphs", "clients"):
        import uvloop

        if args.role == "subgraphs":
            chat_port, users_port = (int(p) for p in args.ports.split(","))
            uvloop.run(run_subgraphs(chat_port, users_port))
        else:
            uvloop.run(run_clients(args.url, args.count, args.offset, args.rooms, args.token, args.out))
        return 0
    result = drive(args)
    print_table(result)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
