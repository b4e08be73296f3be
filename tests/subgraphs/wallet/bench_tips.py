"""Tips benchmark: fire N concurrent sendTip mutations at a URL, report tips/s and latency.

    # against a running gateway or wallet subgraph that accepts dev HS256 tokens
    python -m tests.subgraphs.wallet.bench_tips --url http://127.0.0.1:4000/graphql \
        --hs256-secret "$WALLET_JWT_DEV_HS256_SECRET" --database-url postgresql+asyncpg://...

    # or start a wallet subgraph process on PostgreSQL and benchmark it directly
    python -m tests.subgraphs.wallet.bench_tips --self-host --tips 5000 --concurrency 64

Senders are funded through the public API (createDeposit + confirmSandboxDeposit), so the same
run works through the gateway. After the run the invariant is checked: through GraphQL (senders
lost exactly what recipients gained, per successful tip) and, given --database-url, by the
ledger reconciliation (every currency sums to zero, cached == derived balances).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import jwt

from tests.bench.tips import BALANCE, CONFIRM, DEPOSIT, SEND

RECEIVED = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on User { id tipsReceivedTotal { currency minorUnits } } } }"""


def token(secret: str, user: str, *, issuer: str, audience: str) -> str:
    now = int(time.time())
    claims = {"sub": user, "iss": issuer, "aud": audience, "iat": now, "nbf": now,
              "exp": now + 3600, "roles": ["USER"], "scope": ""}
    return jwt.encode(claims, secret, algorithm="HS256")


class Client:
    def __init__(self, url: str, http: httpx.AsyncClient, args: argparse.Namespace) -> None:
        self.url, self.http, self.args = url, http, args

    async def gql(self, query: str, variables: dict[str, Any], user: str | None) -> dict[str, Any]:
        headers = {}
        if user is not None:
            headers["authorization"] = "Bearer " + token(
                self.args.hs256_secret, user, issuer=self.args.issuer, audience=self.args.audience)
        response = await self.http.post(self.url, json={"query": query, "variables": variables},
                                        headers=headers)
        return response.json()  # type: ignore[no-any-return]


async def fund(client: Client, user: str, amount: str) -> None:
    created = await client.gql(DEPOSIT, {"amount": amount, "key": uuid.uuid4().hex}, user)
    deposit_id = created["data"]["createDeposit"]["id"]
    confirmed = await client.gql(CONFIRM, {"id": deposit_id}, user)
    assert confirmed["data"]["confirmSandboxDeposit"]["status"] == "SUCCEEDED", confirmed


async def balance(client: Client, user: str) -> int:
    result = await client.gql(BALANCE, {}, user)
    return sum(int(b["minorUnits"]) for b in result["data"]["myWallet"]["balances"] if b["currency"] == "USD")


async def received(client: Client, users: list[str]) -> int:
    reps = [{"__typename": "User", "id": u} for u in users]
    result = await client.gql(RECEIVED, {"r": reps}, None)
    return sum(int(m["minorUnits"]) for e in result["data"]["_entities"]
               for m in e["tipsReceivedTotal"] if m["currency"] == "USD")


async def run(url: str, args: argparse.Namespace) -> int:
    run_id = secrets.token_hex(3)
    senders = [f"bench-{run_id}-s{i}" for i in range(args.senders)]
    recipients = [f"bench-{run_id}-r{i}" for i in range(args.recipients)]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        client = Client(url, http, args)
        await asyncio.gather(*[fund(client, s, args.fund) for s in senders])
        before = sum([await balance(client, s) for s in senders])
        latencies: list[float] = []
        outcomes: Counter[str] = Counter()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(args.tips):
            queue.put_nowait(i)

        async def worker() -> None:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                sender = random.choice(senders)
                variables = {"to": random.choice(recipients), "amount": args.amount,
                             "key": uuid.uuid4().hex}
                started = time.perf_counter()
                try:
                    result = await client.gql(SEND, variables, sender)
                except httpx.HTTPError as error:
                    outcomes[f"http:{type(error).__name__}"] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                errors = result.get("errors")
                outcomes["ok" if not errors else errors[0].get("extensions", {}).get("code", "?")] += 1

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(args.concurrency)])
        elapsed = time.perf_counter() - started
        after = sum([await balance(client, s) for s in senders])
        gained = await received(client, recipients)
    ok = outcomes["ok"]
    minor = int(Decimal(args.amount) * 100)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(f"tips: {args.tips}  concurrency: {args.concurrency}  elapsed: {elapsed:.2f}s")
    print(f"outcomes: {dict(outcomes)}")
    print("| metric | value |\n|---|---|")
    print(f"| tips/s (ok) | {ok / elapsed:.0f} |")
    for label, q in (("p50", 49), ("p95", 94), ("p99", 98)):
        print(f"| {label} | {quantiles[q] * 1000:.1f} ms |")
    invariant = (before - after) == ok * minor == gained
    print(f"invariant (senders lost == ok tips x amount == recipients gained): "
          f"{before - after} / {ok * minor} / {gained} -> {'OK' if invariant else 'BROKEN'}")
    if args.database_url:
        invariant = await reconcile_db(args.database_url) and invariant
    return 0 if invariant else 1


async def reconcile_db(url: str) -> bool:
    from shared.db import create_database
    from subgraphs.wallet.services.reconcile import reconcile

    database = create_database(url, pool_size=1, max_overflow=0)
    try:
        async with database.session() as session:
            report = await reconcile(session=session)
    finally:
        await database.dispose()
    print(f"ledger reconciliation: {report.accounts} accounts, "
          f"{'OK' if report.ok else f'BREAKS {report.breaks[:5]}'}")
    return report.ok


def self_host(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args.hs256_secret = args.hs256_secret or secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "WALLET_ENVIRONMENT": "dev", "WALLET_PORT": str(port), "WALLET_LOG_LEVEL": "WARNING",
        "WALLET_DATABASE_URL": args.database_url, "WALLET_JWT_DEV_HS256_SECRET": args.hs256_secret,
        "WALLET_DATA_DIR": tempfile.mkdtemp(prefix="wallet-bench-"),
        "WALLET_TIP_LIMIT_PER_MINUTE": "100000000", "WALLET_TIP_IP_LIMIT_PER_MINUTE": "100000000",
        "WALLET_DEPOSIT_SETTLEMENT_HOURS": "0",  # senders are funded by deposits and tip at once
        "WALLET_DB_POOL_SIZE": str(args.pool_size), "WALLET_DB_MAX_OVERFLOW": "0",
    }
    process = subprocess.Popen([sys.executable, "-m", "subgraphs.wallet"], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180  # imports alone take a while on a busy machine
    while time.time() < deadline:
        try:
            if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                return process, base + "/graphql"
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("wallet subgraph did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="GraphQL endpoint (gateway or wallet subgraph)")
    parser.add_argument("--self-host", action="store_true", help="start a wallet subgraph process")
    parser.add_argument("--database-url", default="", help="the wallet database, for reconciliation")
    parser.add_argument("--hs256-secret", default=os.environ.get("WALLET_JWT_DEV_HS256_SECRET", ""))
    parser.add_argument("--issuer", default="tributary-identity")
    parser.add_argument("--audience", default="tributary")
    parser.add_argument("--tips", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=20)
    parser.add_argument("--amount", default="0.01")
    parser.add_argument("--fund", default="1000.00")
    parser.add_argument("--pool-size", type=int, default=20)
    args = parser.parse_args()
    process = None
    if args.self_host:
        if not args.database_url:
            from shared.testing import postgres_url

            args.database_url = postgres_url("tributary_bench_wallet")
        process, url = self_host(args)
    elif args.url:
        url = args.url
        if not args.hs256_secret:
            raise SystemExit("--hs256-secret (or WALLET_JWT_DEV_HS256_SECRET) is required with --url")
    else:
        raise SystemExit("give --url or --self-host")
    try:
        code = asyncio.run(run(url, args))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
