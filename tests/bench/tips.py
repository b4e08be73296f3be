"""Tips through the gateway on PostgreSQL: identity + wallet subgraphs, `python -m gateway`, sendTip load.

    .venv/bin/python tests/bench/tips.py [--duration 15] [--warmup 3] [--connections 50]
                                         [--senders 50] [--recipients 20] [--rate 500]
                                         [--read-connections 1] [--latency-connections 12]
                                         [--wallet-workers 2]

Processes (each its own process group): the identity and wallet subgraphs (uvicorn, uvloop, httptools,
as `deploy/run-service` starts them; the wallet with W workers on one port, migrated once up front)
on fresh PostgreSQL databases, and the gateway on a supergraph composed here from their live SDLs
(`gateway.compose.fetch_sdl` + `compose`). Users register through the gateway (real EdDSA tokens,
verified by the gateway and the wallet through identity's JWKS); senders are funded through the
wallet's public sandbox path (createDeposit + confirmSandboxDeposit). Each tip has a fresh
idempotency key and counts as ok when it has data and no errors.

Measured phases, from light to heavy (the saturating phase, and the vacuuming it leaves behind,
come last), one table row each:
- `tips @ R/2 /s + reads` and `leaderboard reads, 1 connection`: tips fall due at half the rate
  while one connection reads leaderboards (both kinds, every period, in turn) back to back:
  the boards read at load, whose goal is p95 < 5 ms.
- `tips, 12 connections`: 12 connections send tips back to back (closed loop), which is how the
  goal reads for a closed loop: at least 500 tips/s with p95 under 50 ms.
- `tips @ R/s`: tips fall due at a fixed rate R (open loop) over up to C connections; a tip's
  latency runs from when it fell due, waiting for a free connection included. Stricter than a
  closed loop: a stall lets due tips pile up behind it instead of slowing the clients down. At
  low rates it also counts the load's own timer and the VM's wake-up latency (about 3 ms).
- `tips, C connections`: C connections (default 50) back to back: the most tips/s the stack
  gives. Its mean latency is C / throughput by construction.
The load itself uses `_http1` (prebuilt keep-alive requests), which costs the shared two cores
far less than aiohttp would.

Afterwards the ledger invariant is checked twice: through GraphQL (what senders lost == ok tips x
amount == what recipients gained) and by the wallet's reconciliation service on its database (every
currency sums to zero, entries balance, cached balances == derived ones).

Bench-only settings (not product defaults): the tip velocity limits are raised past the load,
and argon2 is made cheap because registration is set-up, not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make `tests.bench`, `gateway`, `shared` importable
    sys.path.insert(0, str(ROOT))

import aiohttp
import orjson
import uvloop

from tests.bench._http1 import Http1Connection, Http1Error
from tests.bench._monitor import group_cpu_seconds
from tests.bench._procs import free_port, request, start, stop, wait_ready

DATABASE = "tributary_bench_tips"
AMOUNT = "0.01"
AMOUNT_MINOR = 1
FUND = "1000.00"
GOAL = "goal >= 500 tips/s, p95 < 50 ms"
READ_GOAL = "goal p95 < 5 ms"

REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { accessToken user { id } }
}"""
SEND = """mutation($to: ID!, $amount: String!, $key: String!) {
  sendTip(to: $to, amount: $amount, idempotencyKey: $key) { id }
}"""
DEPOSIT = """mutation($amount: String!, $key: String!) {
  createDeposit(amount: $amount, currency: "USD", idempotencyKey: $key) { id }
}"""
CONFIRM = "mutation($id: ID!) { confirmSandboxDeposit(id: $id) { status } }"
BALANCE = "{ myWallet { balances { currency minorUnits } } }"
LEADERBOARD = """query($kind: LeaderboardKind!, $period: LeaderboardPeriod!) {
  leaderboard(kind: $kind, period: $period, first: 10) { rank user { id } total { minorUnits } }
}"""
# identity's `users` joined with the wallet's User extension: the entity path through the gateway
RECEIVED = "query($ids: [ID!]!) { users(ids: $ids) { id tipsReceivedTotal { currency minorUnits } } }"


# -- databases ------------------------------------------------------------------------------------


async def recreate_database(name: str) -> str:
    """Drop and create `name` on the local PostgreSQL; its asyncpg SQLAlchemy URL."""
    import asyncpg

    base = os.environ.get("TRIBUTARY_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    connection = await asyncpg.connect(base)
    try:
        # identifiers cannot be bound parameters; `name` comes from this module, never from input
        assert name.replace("_", "").isalnum(), name
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name


async def drop_database(name: str) -> None:
    import asyncpg

    base = os.environ.get("TRIBUTARY_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    connection = await asyncpg.connect(base)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def reconcile_wallet(url: str) -> Any:
    from shared.db import create_database
    from subgraphs.wallet.services.reconcile import reconcile

    database = create_database(url, pool_size=1, max_overflow=0)
    try:
        async with database.session() as session:
            return await reconcile(session=session)
    finally:
        await database.dispose()


# -- processes ------------------------------------------------------------------------------------


@dataclass
class Stack:
    gateway_url: str
    gateway_pid: int
    wallet_url_db: str
    wallet_workers: int
    pids: dict[str, int] = field(default_factory=dict)


def _uvicorn(service: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", f"subgraphs.{service}.app:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning"]


def _ready(port: int, path: str) -> bool:
    return request(port, "GET", path, timeout_s=2)[0] == 200


@contextmanager
def running_stack(*, prefix: str, workdir: Path, wallet_workers: int = 1,
                  timeout_s: float = 180.0) -> Iterator[Stack]:
    """Identity, wallet and the gateway, started on fresh databases `<prefix>_identity/_wallet`."""
    identity_db = asyncio.run(recreate_database(f"{prefix}_identity"))
    wallet_db = asyncio.run(recreate_database(f"{prefix}_wallet"))
    identity_port, wallet_port, gateway_port = free_port(), free_port(), free_port()
    jwks = f"http://127.0.0.1:{identity_port}/.well-known/jwks.json"
    processes = []
    try:
        identity = start(_uvicorn("identity", identity_port), log=workdir / "identity.log", env={
            "IDENTITY_ENVIRONMENT": "dev", "IDENTITY_DATABASE_URL": identity_db,
            "IDENTITY_DATA_DIR": str(workdir / "identity"), "IDENTITY_LOG_LEVEL": "WARNING",
            "IDENTITY_REGISTER_LIMIT_PER_IP": "1000000",
            "IDENTITY_ARGON2_TIME_COST": "1", "IDENTITY_ARGON2_MEMORY_KIB": "8192",
            "IDENTITY_ARGON2_PARALLELISM": "1",
        })
        processes.append(identity)
        wallet_env = {"WALLET_DATABASE_URL": wallet_db, "WALLET_DATA_DIR": str(workdir / "wallet")}
        # migrated once up front: several workers would otherwise race to run alembic
        subprocess.run([sys.executable, "-m", "shared.migrate", "upgrade", "wallet", "--url", wallet_db],
                       check=True, capture_output=True, cwd=ROOT, env={**os.environ, **wallet_env})
        wallet = start([*_uvicorn("wallet", wallet_port), "--workers", str(wallet_workers)],
                       log=workdir / "wallet.log", env={"WALLET_MIGRATE_ON_STARTUP": "false", **wallet_env,
            "WALLET_ENVIRONMENT": "dev", "WALLET_DATABASE_URL": wallet_db,
            "WALLET_DATA_DIR": str(workdir / "wallet"), "WALLET_LOG_LEVEL": "WARNING",
            "WALLET_JWKS_URL": jwks, "WALLET_REDIS_URL": "redis://127.0.0.1:6379/0",
            "WALLET_KV_PREFIX": f"bench:tips:{secrets.token_hex(4)}:",
            "WALLET_TIP_LIMIT_PER_MINUTE": "100000000", "WALLET_TIP_IP_LIMIT_PER_MINUTE": "100000000",
            # Senders are funded through sandbox deposits and tip at once: no settlement hold.
            "WALLET_DEPOSIT_SETTLEMENT_HOURS": "0",
        })
        processes.append(wallet)
        for name, process, port in (("identity", identity, identity_port), ("wallet", wallet, wallet_port)):
            wait_ready(lambda p=port: _ready(p, "/health/ready"), alive=lambda pr=process: pr.poll() is None,
                       what=name, timeout_s=timeout_s, log=workdir / f"{name}.log")
        supergraph = workdir / "supergraph.graphql"
        supergraph.write_text(asyncio.run(compose_live({
            "identity": f"http://127.0.0.1:{identity_port}/graphql",
            "wallet": f"http://127.0.0.1:{wallet_port}/graphql",
        })))
        gateway = start([sys.executable, "-m", "gateway", "--supergraph", str(supergraph),
                         "--port", str(gateway_port)], log=workdir / "gateway.log",
                        env={"GATEWAY_JWKS_URL": jwks, "GATEWAY_LOG_LEVEL": "WARNING"})
        processes.append(gateway)
        wait_ready(lambda: _ready(gateway_port, "/health"), alive=lambda: gateway.poll() is None,
                   what="gateway", timeout_s=timeout_s, log=workdir / "gateway.log")
        yield Stack(gateway_url=f"http://127.0.0.1:{gateway_port}/graphql", gateway_pid=gateway.pid,
                    wallet_url_db=wallet_db, wallet_workers=wallet_workers,
                    pids={"identity": identity.pid, "wallet": wallet.pid, "gateway": gateway.pid})
    finally:
        for process in reversed(processes):
            stop(process)


async def compose_live(urls: dict[str, str]) -> str:
    from gateway.compose import SubgraphSource, compose, fetch_sdl

    sources = [SubgraphSource(name=name, url=url, sdl=await fetch_sdl(url)) for name, url in urls.items()]
    result = compose(sources)
    if result.supergraph_sdl is None:
        raise RuntimeError("composition failed: " + "; ".join(str(e) for e in result.errors))
    return result.supergraph_sdl


# -- load ------------------------------------------------------------------------------------------


class Client:
    """Set-up and checks through the gateway (aiohttp: convenient, and not what is measured)."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http = url, http

    async def gql(self, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with self.http.post(self.url, json={"query": query, "variables": variables},
                                  headers=headers) as response:
            return await response.json(content_type=None)  # type: ignore[no-any-return]


def _data(result: dict[str, Any], key: str) -> Any:
    if result.get("errors") or not result.get("data") or result["data"].get(key) is None:
        raise RuntimeError(f"{key} failed: {result}")
    return result["data"][key]


async def register(client: Client, handle: str) -> tuple[str, str]:
    payload = _data(await client.gql(REGISTER, {"input": {
        "handle": handle, "password": secrets.token_urlsafe(16)}}), "register")
    return payload["user"]["id"], payload["accessToken"]


async def fund(client: Client, token: str) -> None:
    created = _data(await client.gql(DEPOSIT, {"amount": FUND, "key": uuid.uuid4().hex}, token), "createDeposit")
    confirmed = _data(await client.gql(CONFIRM, {"id": created["id"]}, token), "confirmSandboxDeposit")
    assert confirmed["status"] == "SUCCEEDED", confirmed


async def usd_balance(client: Client, token: str) -> int:
    wallet = _data(await client.gql(BALANCE, {}, token), "myWallet")
    return sum(int(b["minorUnits"]) for b in wallet["balances"] if b["currency"] == "USD")


async def usd_received(client: Client, users: list[str]) -> int:
    found = _data(await client.gql(RECEIVED, {"ids": users}), "users")
    assert all(u is not None for u in found), found
    return sum(int(m["minorUnits"]) for u in found for m in u["tipsReceivedTotal"] if m["currency"] == "USD")


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0


@dataclass(frozen=True)
class Requests:
    """What a load sends: per connection its headers, per turn a body, and the data key it checks."""

    headers: Callable[[int], dict[str, str]]
    body: Callable[[int], bytes]
    field: str


def tip_requests(senders: list[tuple[str, str]], recipients: list[str]) -> Requests:
    """sendTip with a fresh idempotency key; connection i keeps sender i."""
    return Requests(
        headers=lambda index: {"Authorization": f"Bearer {senders[index % len(senders)][1]}"},
        body=lambda turn: orjson.dumps({"query": SEND, "variables": {
            "to": recipients[turn % len(recipients)], "amount": AMOUNT, "key": uuid.uuid4().hex}}),
        field="sendTip",
    )


def leaderboard_requests() -> Requests:
    """Anonymous leaderboard reads, cycling through both kinds and every period."""
    bodies = [orjson.dumps({"query": LEADERBOARD, "variables": {"kind": kind, "period": period}})
              for kind in ("CREATORS", "TIPPERS") for period in ("DAY", "WEEK", "MONTH", "ALL_TIME")]
    return Requests(headers=lambda index: {}, body=lambda turn: bodies[turn % len(bodies)],
                    field="leaderboard")


async def fire(url: str, requests: Requests, *, connections: int, seconds: float, measure: bool,
               rate: float | None = None) -> Load:
    """Send `requests` for `seconds` over `connections` keep-alive connections.

    Closed loop (`rate` None): every connection sends back to back, which finds the most per second.
    Open loop: requests fall due at a fixed `rate`, whatever the answers do; a request's latency
    runs from when it fell due, so waiting for a free connection counts (no coordinated omission).
    """
    load = Load()
    began = time.perf_counter()
    deadline = began + seconds
    due: asyncio.Queue[float | None] | None = asyncio.Queue() if rate else None

    def outcome(status: int, body: bytes) -> str:
        if status != 200:
            return f"http:{status}"
        result = orjson.loads(body)
        errors = result.get("errors")
        if errors:
            return str((errors[0].get("extensions") or {}).get("code", "?"))
        return "ok" if (result.get("data") or {}).get(requests.field) is not None else "no-data"

    async def worker(index: int) -> None:
        connection = Http1Connection(url, requests.headers(index))
        turn = index
        try:
            while True:
                if due is None:
                    started = time.perf_counter()
                    if started >= deadline:
                        return
                else:
                    slot = await due.get()
                    if slot is None:
                        return
                    started = slot
                turn += 1
                try:
                    status, answer = await connection.post(requests.body(turn))
                except (Http1Error, OSError) as error:
                    load.outcomes[f"http:{type(error).__name__}"] += 1
                    continue
                if measure:
                    load.latencies.append(time.perf_counter() - started)
                load.outcomes[outcome(status, answer)] += 1
        finally:
            await connection.close()

    async def schedule() -> None:
        assert due is not None and rate
        sent = 0
        while True:
            slot = began + sent / rate
            if slot >= deadline:
                break
            delay = slot - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait(slot)
            sent += 1
        for _ in range(connections):
            due.put_nowait(None)

    tasks = [worker(i) for i in range(connections)]
    if due is not None:
        tasks.append(schedule())
    await asyncio.gather(*tasks)
    load.elapsed = time.perf_counter() - began
    return load


def _log(message: str) -> None:
    print(f"[tips] {message}", file=sys.stderr, flush=True)


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _max_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Phase:
    """One measured window: the loads run in it and the CPU seconds each process group spent."""

    loads: dict[str, Load]  # "tips", and "leaderboard" in the mixed phase
    rates: dict[str, float | None]  # None: closed loop
    connections: dict[str, int]
    cpu: dict[str, float]


async def drive(stack: Stack, *, duration: float, warmup: float, connections: int, senders: int,
                recipients: int, rate: float | None, read_connections: int,
                latency_connections: int) -> dict[str, Any]:
    """Register, fund, warm up, run the phases, check the ledger.

    Phases, from light to heavy so that the saturating one, and the vacuuming it causes, come
    last: tips due at half of `rate` while leaderboard reads go back to back over
    `read_connections` (the boards read "at load"); tips back to back over `latency_connections`;
    tips due at `rate`; tips back to back over `connections`. A zero skips a phase.
    """
    run_id = secrets.token_hex(3)
    connector = aiohttp.TCPConnector(limit=connections + 4, limit_per_host=connections + 4)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        client = Client(stack.gateway_url, http)
        sender_users = await asyncio.gather(*(register(client, f"tipper_{run_id}_{i}") for i in range(senders)))
        recipient_users = await asyncio.gather(*(register(client, f"creator_{run_id}_{i}") for i in range(recipients)))
        recipient_ids = [user_id for user_id, _ in recipient_users]
        await asyncio.gather(*(fund(client, token) for _, token in sender_users))
        received_before = await usd_received(client, recipient_ids)
        before = sum(await asyncio.gather(*(usd_balance(client, t) for _, t in sender_users)))
        tips_load = tip_requests(sender_users, recipient_ids)
        reads_load = leaderboard_requests()

        _log(f"registered {senders}+{recipients} users and funded the senders; warming up")
        warm = (await fire(stack.gateway_url, tips_load, connections=connections, seconds=warmup,
                           measure=False) if warmup > 0 else Load())
        # each plan: what -> (rate or None for back to back, connections)
        plans: list[dict[str, tuple[float | None, int]]] = []
        if rate and read_connections:
            plans.append({"tips": (rate / 2, connections), "leaderboard": (None, read_connections)})
        if latency_connections:
            plans.append({"tips": (None, latency_connections)})
        if rate:
            plans.append({"tips": (rate, connections)})
        plans.append({"tips": (None, connections)})
        phases = []
        for plan in plans:
            _log(f"measuring {duration:.0f}s: " + ", ".join(
                f"{what} {'back to back' if due is None else f'due at {due:.0f}/s'} over {conns}"
                for what, (due, conns) in plan.items()))
            cpu_before = {name: group_cpu_seconds(pid) for name, pid in stack.pids.items()}
            runs = {what: fire(stack.gateway_url, tips_load if what == "tips" else reads_load,
                               connections=conns, seconds=duration, measure=True, rate=due)
                    for what, (due, conns) in plan.items()}
            loads = dict(zip(runs, await asyncio.gather(*runs.values()), strict=True))
            cpu = {name: group_cpu_seconds(pid) - cpu_before[name] for name, pid in stack.pids.items()}
            phases.append(Phase(loads=loads, rates={what: due for what, (due, _) in plan.items()},
                                connections={what: conns for what, (_, conns) in plan.items()}, cpu=cpu))

        after = sum(await asyncio.gather(*(usd_balance(client, t) for _, t in sender_users)))
        gained = await usd_received(client, recipient_ids) - received_before
    report = await reconcile_wallet(stack.wallet_url_db)
    ok_all = warm.outcomes["ok"] + sum(phase.loads["tips"].outcomes["ok"] for phase in phases)
    return {
        "phases": phases, "warmup_outcomes": dict(warm.outcomes), "connections": connections,
        "senders": senders, "recipients": recipients,
        "invariant_ok": before - after == ok_all * AMOUNT_MINOR == gained and report.ok,
        "ledger": {"senders_lost": before - after, "ok_tips_x_amount": ok_all * AMOUNT_MINOR,
                   "recipients_gained": gained, "accounts_reconciled": report.accounts,
                   "breaks": [str(b) for b in report.breaks[:5]]},
        "gateway_max_rss_mb": round(_max_rss_mb(stack.gateway_pid), 1),
        "wallet_workers": stack.wallet_workers,
    }


def _ms(latencies: list[float]) -> dict[int, float | None]:
    ordered = sorted(latencies)
    return {q: (None if (v := _percentile(ordered, q)) is None else round(v * 1000, 2)) for q in (50, 95, 99)}


def _phase_rows(result: dict[str, Any], phase: Phase) -> list[dict[str, Any]]:
    tips, cpu = phase.loads["tips"], phase.cpu
    answered = max(1, len(tips.latencies))
    tip_rate, with_reads = phase.rates["tips"], "leaderboard" in phase.loads
    ms = _ms(tips.latencies)
    rps = round(tips.outcomes["ok"] / tips.elapsed, 1) if tips.elapsed else 0.0
    per_tip = ", ".join(f"{name} {1000 * seconds / answered:.2f}" for name, seconds in cpu.items())
    busy = ", ".join(f"{name} {100 * seconds / tips.elapsed:.0f}%" for name, seconds in cpu.items())
    ledger = result["ledger"]
    ledger_note = (f"ledger after all phases {'OK' if result['invariant_ok'] else 'BROKEN ' + str(ledger)} "
                   f"(senders lost {ledger['senders_lost']} = ok tips x amount {ledger['ok_tips_x_amount']} = "
                   f"recipients gained {ledger['recipients_gained']}; {ledger['accounts_reconciled']} "
                   f"accounts reconciled)")
    conns = phase.connections["tips"]
    if tip_rate is None:
        how = f"{conns} connections back to back"
        name = f"tips, {conns} connections"
    else:
        how = f"due at {tip_rate:.0f}/s (open loop) over up to {conns} connections"
        name = f"tips @ {tip_rate:.0f}/s" + (" + reads" if with_reads else "")
    goal_met = rps >= 500 and ms[95] is not None and ms[95] < 50
    note = (f"sendTip through the gateway on PostgreSQL, {how}, {result['wallet_workers']} wallet "
            f"worker(s); outcomes {dict(tips.outcomes)}; {ledger_note}; CPU ms per tip: {per_tip}; "
            f"busy: {busy}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            + ("" if with_reads else f"; {GOAL}: {'met' if goal_met else 'NOT met'}"))
    rows = [{
        "scenario": name, "rps": rps, "p50_ms": ms[50], "p95_ms": ms[95], "p99_ms": ms[99],
        "failures": sum(n for outcome, n in tips.outcomes.items() if outcome != "ok"),
        "gateway_max_rss_mb": result["gateway_max_rss_mb"],
        "gateway_cpu_pct": round(100 * cpu["gateway"] / tips.elapsed, 1),
        "gateway_cpu_ms_per_op": None if with_reads else round(1000 * cpu["gateway"] / answered, 2),
        "subgraph_req_per_op": None, "note": note,
    }]
    if with_reads:
        reads = phase.loads["leaderboard"]
        read_ms = _ms(reads.latencies)
        rows.append({
            "scenario": f"leaderboard reads, {phase.connections['leaderboard']} connection(s)",
            "rps": round(reads.outcomes["ok"] / reads.elapsed, 1) if reads.elapsed else 0.0,
            "p50_ms": read_ms[50], "p95_ms": read_ms[95], "p99_ms": read_ms[99],
            "failures": sum(n for outcome, n in reads.outcomes.items() if outcome != "ok"),
            "gateway_max_rss_mb": result["gateway_max_rss_mb"],
            "note": (f"leaderboard(kind, period) through the gateway, both kinds and all periods in "
                     f"turn, back to back over {phase.connections['leaderboard']} connection(s), "
                     f"while tips fall due at {tip_rate:.0f}/s; outcomes {dict(reads.outcomes)}; "
                     f"{READ_GOAL}: {'met' if read_ms[95] is not None and read_ms[95] < 5 else 'NOT met'}"),
        })
    for row in rows:
        if not result["invariant_ok"]:
            row["error"] = True
    return rows


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The table rows: one per phase, and one more for the reads of the mixed phase."""
    return [row for phase in result["phases"] for row in _phase_rows(result, phase)]


def _show_errors(workdir: Path) -> None:
    """Failed tips: the subgraphs' logged errors go to stderr (the work directory is deleted after)."""
    for name in ("wallet", "gateway", "identity"):
        log = workdir / f"{name}.log"
        lines = [line for line in log.read_text(errors="replace").splitlines() if "rror" in line] if log.exists() else []
        lines.sort(key=lambda line: '"level":"ERROR"' not in line)  # failures before warnings
        for line in lines[:3]:
            print(f"--- {name}.log: {line[:600]}", file=sys.stderr)
        if len(lines) > 3:
            print(f"--- {name}.log: ... {len(lines) - 3} more error lines", file=sys.stderr)


def measure(*, duration: float, warmup: float, connections: int, senders: int = 50, recipients: int = 20,
            rate: float | None = 500.0, read_connections: int = 1, latency_connections: int = 12,
            wallet_workers: int = 2, prefix: str = DATABASE,
            keep_databases: bool = True) -> dict[str, Any]:
    """Start the stack, run the load, stop it; the result of `drive`."""
    with tempfile.TemporaryDirectory(prefix="bench-tips-") as tmp:
        workdir = Path(tmp)
        try:
            with running_stack(prefix=prefix, workdir=workdir, wallet_workers=wallet_workers) as stack:
                # uvloop: the load shares the two cores with what it measures
                result = uvloop.run(drive(stack, duration=duration, warmup=warmup, connections=connections,
                                           senders=senders, recipients=recipients, rate=rate,
                                           read_connections=read_connections,
                                           latency_connections=latency_connections))
            outcomes = set(result["warmup_outcomes"]).union(
                *(load.outcomes for phase in result["phases"] for load in phase.loads.values()))
            if outcomes - {"ok"}:
                _show_errors(workdir)
            return result
        except Exception:
            for name in ("identity", "wallet", "gateway"):
                log = workdir / f"{name}.log"
                if log.exists():
                    tail = log.read_text(errors="replace").splitlines()[-15:]
                    print(f"--- {name}.log (tail)\n" + "\n".join(tail), file=sys.stderr)
            raise
        finally:
            if not keep_databases:
                for suffix in ("identity", "wallet"):
                    asyncio.run(drop_database(f"{prefix}_{suffix}"))


# -- entry points ----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The `make bench` rows (tests/bench/run.py awaits this)."""
    # the stack's set-up uses asyncio.run of its own, so it runs in a worker thread
    result = await asyncio.to_thread(measure, duration=args.duration, warmup=args.warmup,
                                     connections=args.connections)
    return rows(result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "15")))
    parser.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", "3")))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", "50")))
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=20)
    parser.add_argument("--rate", type=float, default=500.0,
                        help="tips/s due in the open-loop phase (0: skip it)")
    parser.add_argument("--read-connections", type=int, default=1,
                        help="connections reading leaderboards back to back in the mixed phase (0: skip it)")
    parser.add_argument("--latency-connections", type=int, default=12,
                        help="connections of the second back-to-back phase (0: skip it)")
    parser.add_argument("--wallet-workers", type=int, default=2)
    args = parser.parse_args()
    result = measure(duration=args.duration, warmup=args.warmup, connections=args.connections,
                     senders=args.senders, recipients=args.recipients, rate=args.rate or None,
                     read_connections=args.read_connections,
                     latency_connections=args.latency_connections,
                     wallet_workers=args.wallet_workers)
    from tests.bench._report import render_table

    table = rows(result)
    print(render_table(table))
    return 0 if result["invariant_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
