"""Tips through the gateway on PostgreSQL: identity + wallet subgraphs, `python -m gateway`, sendTip load.

    .venv/bin/python tests/bench/tips.py [--duration 15] [--warmup 3] [--connections 50]
                                         [--senders 50] [--recipients 20]

Processes (each its own process group): the identity and wallet subgraphs (uvicorn, uvloop, httptools,
as `deploy/run-service` starts them) on fresh PostgreSQL databases, and the gateway on a supergraph
composed here from their live SDLs (`gateway.compose.fetch_sdl` + `compose`). Users register through
the gateway (real EdDSA tokens, verified by the gateway and the wallet through identity's JWKS);
senders are funded through the wallet's public sandbox path (createDeposit + confirmSandboxDeposit,
as `tests/subgraphs/wallet/bench_tips.py` does). Then C connections fire sendTip for D seconds, each
with a fresh idempotency key; a tip counts as ok when it has data and no errors.

Afterwards the ledger invariant is checked twice: through GraphQL (what senders lost == ok tips x
amount == what recipients gained) and by the wallet's reconciliation service on its database (every
currency sums to zero, entries balance, cached balances == derived ones).

Bench-only settings (not product defaults): the tip velocity limits are raised past the load, and
argon2 is made cheap because registration is set-up, not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make `tests.bench`, `gateway`, `shared` importable
    sys.path.insert(0, str(ROOT))

import aiohttp

from tests.bench._procs import free_port, request, start, stop, wait_ready

DATABASE = "tributary_bench_tips"
AMOUNT = "0.01"
AMOUNT_MINOR = 1
FUND = "1000.00"
GOAL = "goal >= 500 tips/s, p95 < 50 ms"

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
    pids: dict[str, int] = field(default_factory=dict)


def _uvicorn(service: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", f"subgraphs.{service}.app:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning"]


def _ready(port: int, path: str) -> bool:
    return request(port, "GET", path, timeout_s=2)[0] == 200


@contextmanager
def running_stack(*, prefix: str, workdir: Path, timeout_s: float = 180.0) -> Iterator[Stack]:
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
        wallet = start(_uvicorn("wallet", wallet_port), log=workdir / "wallet.log", env={
            "WALLET_ENVIRONMENT": "dev", "WALLET_DATABASE_URL": wallet_db,
            "WALLET_DATA_DIR": str(workdir / "wallet"), "WALLET_LOG_LEVEL": "WARNING",
            "WALLET_JWKS_URL": jwks, "WALLET_REDIS_URL": "redis://127.0.0.1:6379/0",
            "WALLET_KV_PREFIX": f"bench:tips:{secrets.token_hex(4)}:",
            "WALLET_TIP_LIMIT_PER_MINUTE": "100000000", "WALLET_TIP_IP_LIMIT_PER_MINUTE": "100000000",
            # a pool that holds the load's concurrency: overflow connections are closed on
            # return, so a pool smaller than the load reconnects (TLS attempt included) all run
            "WALLET_DB_POOL_SIZE": "40", "WALLET_DB_MAX_OVERFLOW": "10",
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
                    wallet_url_db=wallet_db,
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


async def fire(client: Client, *, senders: list[tuple[str, str]], recipients: list[str],
               connections: int, seconds: float, measure: bool) -> Load:
    """`connections` workers send tips back to back for `seconds`; each worker keeps its sender."""
    load = Load()
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        _, token = senders[index % len(senders)]
        turn = index
        while time.perf_counter() < deadline:
            turn += 1
            variables = {"to": recipients[turn % len(recipients)], "amount": AMOUNT, "key": uuid.uuid4().hex}
            began = time.perf_counter()
            try:
                result = await client.gql(SEND, variables, token)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                load.outcomes[f"http:{type(error).__name__}"] += 1
                continue
            if measure:
                load.latencies.append(time.perf_counter() - began)
            errors = result.get("errors")
            if errors:
                load.outcomes[(errors[0].get("extensions") or {}).get("code", "?")] += 1
            elif (result.get("data") or {}).get("sendTip"):
                load.outcomes["ok"] += 1
            else:
                load.outcomes["no-data"] += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    load.elapsed = time.perf_counter() - began
    return load


def _log(message: str) -> None:
    print(f"[tips] {message}", file=sys.stderr, flush=True)


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _max_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def drive(stack: Stack, *, duration: float, warmup: float, connections: int,
                senders: int, recipients: int) -> dict[str, Any]:
    """Register, fund, warm up, measure, check; the scenario's row (plus detail keys)."""
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

        _log(f"registered {senders}+{recipients} users and funded the senders; warming up")
        warm = await fire(client, senders=sender_users, recipients=recipient_ids, connections=connections,
                          seconds=warmup, measure=False) if warmup > 0 else Load()
        _log(f"measuring {duration:.0f}s at {connections} connections")
        cpu_before = {name: _cpu_seconds(pid) for name, pid in stack.pids.items()}
        load = await fire(client, senders=sender_users, recipients=recipient_ids, connections=connections,
                          seconds=duration, measure=True)
        cpu = {name: _cpu_seconds(pid) - cpu_before[name] for name, pid in stack.pids.items()}

        after = sum(await asyncio.gather(*(usd_balance(client, t) for _, t in sender_users)))
        gained = await usd_received(client, recipient_ids) - received_before
    report = await reconcile_wallet(stack.wallet_url_db)
    ok_all = warm.outcomes["ok"] + load.outcomes["ok"]
    failures = sum(n for outcome, n in load.outcomes.items() if outcome != "ok")
    graphql_ok = before - after == ok_all * AMOUNT_MINOR == gained
    ordered = sorted(load.latencies)
    ms = {q: (None if (v := _percentile(ordered, q)) is None else round(v * 1000, 2)) for q in (50, 95, 99)}
    rps = round(load.outcomes["ok"] / load.elapsed, 1) if load.elapsed else 0.0
    return {
        "rps": rps, "p50_ms": ms[50], "p95_ms": ms[95], "p99_ms": ms[99], "failures": failures,
        "gateway_max_rss_mb": round(_max_rss_mb(stack.gateway_pid), 1),
        "gateway_cpu_pct": round(100 * cpu["gateway"] / load.elapsed, 1),
        "gateway_cpu_ms_per_op": round(1000 * cpu["gateway"] / max(1, len(ordered)), 2),
        "subgraph_req_per_op": None,
        "invariant_ok": graphql_ok and report.ok,
        "detail": {
            "connections": connections, "senders": senders, "recipients": recipients,
            "tips_ok": load.outcomes["ok"], "outcomes": dict(load.outcomes),
            "warmup_outcomes": dict(warm.outcomes),
            "senders_lost": before - after, "ok_tips_x_amount": ok_all * AMOUNT_MINOR,
            "recipients_gained": gained,
            "reconciliation": {"accounts": report.accounts, "breaks": [str(b) for b in report.breaks[:5]]},
            "cpu_pct": {name: round(100 * s / load.elapsed, 1) for name, s in cpu.items()},
            # CPU per tip does not depend on how busy the machine is: it bounds the tips/s a core gives
            "cpu_ms_per_tip": {name: round(1000 * s / max(1, len(ordered)), 2) for name, s in cpu.items()},
        },
    }


def _row(result: dict[str, Any]) -> dict[str, Any]:
    detail = result["detail"]
    cpu, per_tip = detail["cpu_pct"], detail["cpu_ms_per_tip"]
    goal_met = (result["rps"] >= 500 and result["p95_ms"] is not None and result["p95_ms"] < 50)
    note = (f"sendTip via gateway on PostgreSQL, {detail['connections']} connections; "
            f"{detail['tips_ok']} ok tips, outcomes {detail['outcomes']} "
            f"(warm-up {detail['warmup_outcomes']}); invariant "
            f"{'OK' if result['invariant_ok'] else 'BROKEN ' + str(detail)}"
            f" ({detail['reconciliation']['accounts']} accounts reconciled); CPU % / ms per tip: "
            f"gateway {cpu['gateway']} / {per_tip['gateway']}, wallet {cpu['wallet']} / {per_tip['wallet']}, "
            f"identity {cpu['identity']} / {per_tip['identity']}; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores; "
            f"{GOAL}: {'met' if goal_met else 'NOT met'}")
    row = {k: v for k, v in result.items() if k not in ("detail", "invariant_ok")}
    row["note"] = note
    if not result["invariant_ok"]:
        row["error"] = True
    return row


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
            prefix: str = DATABASE, keep_databases: bool = True) -> dict[str, Any]:
    """Start the stack, run the load, stop it; the result of `drive`."""
    with tempfile.TemporaryDirectory(prefix="bench-tips-") as tmp:
        workdir = Path(tmp)
        try:
            with running_stack(prefix=prefix, workdir=workdir) as stack:
                result = asyncio.run(drive(stack, duration=duration, warmup=warmup, connections=connections,
                                           senders=senders, recipients=recipients))
            detail = result["detail"]
            if (set(detail["outcomes"]) | set(detail["warmup_outcomes"])) - {"ok"}:
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
    """The `make bench` row (tests/bench/run.py awaits this)."""
    # the stack's set-up uses asyncio.run of its own, so it runs in a worker thread
    result = await asyncio.to_thread(measure, duration=args.duration, warmup=args.warmup,
                                     connections=args.connections)
    return [_row(result)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "15")))
    parser.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", "3")))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", "50")))
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=20)
    args = parser.parse_args()
    result = measure(duration=args.duration, warmup=args.warmup, connections=args.connections,
                     senders=args.senders, recipients=args.recipients)
    from tests.bench._report import render_table

    print(render_table([{"scenario": "tips", **_row(result)}]))
    print(result["detail"], file=sys.stderr)
    return 0 if result["invariant_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
