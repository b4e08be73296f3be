"""Message fan-out benchmark of the social subgraph alone (no gateway).

    .venv/bin/python -m tests.subgraphs.social.bench_delivery --subscribers 255 --messages 200

Starts `python -m subgraphs.social` in a subprocess (uvloop, in-memory or real Redis KV), opens
N graphql-transport-ws subscriptions to one group conversation, sends messages over HTTP at a
fixed rate and reports send latency, delivery latency percentiles and server memory per
subscription. Numbers on a shared 2-core machine are indicative only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import websockets

SECRET = "bench-secret-bench-secret-bench-secret"
ROOT = Path(__file__).resolve().parents[3]


def _token(user_id: str) -> str:
    now = int(time.time())
    claims = {"sub": user_id, "iss": "tributary-identity", "aud": "tributary", "iat": now,
              "exp": now + 3600, "roles": ["user"], "scope": ""}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _subscriber(url: str, user: str, conversation: str, ready: asyncio.Queue[None],
                      latencies: list[float], expected: int) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {_token(user)}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($c: ID!) { messageAdded(conversationId: $c) { text sender { id } } }",
            "variables": {"c": conversation}}}))
        await ready.put(None)
        for _ in range(expected):
            message = json.loads(await ws.recv())
            if message["type"] != "next":
                raise RuntimeError(message)
            sent_at = float(message["payload"]["data"]["messageAdded"]["text"])
            latencies.append(time.time() - sent_at)


async def run(subscribers: int, messages: int, rate: float, redis_url: str | None) -> dict[str, Any]:
    port = _free_port()
    data_dir = tempfile.mkdtemp(prefix="social-bench-")
    env = {**os.environ, "SOCIAL_PORT": str(port), "SOCIAL_DATA_DIR": data_dir,
           "SOCIAL_JWT_DEV_HS256_SECRET": SECRET, "SOCIAL_LOG_LEVEL": "WARNING",
           "SOCIAL_ENVIRONMENT": "dev", "SOCIAL_KV_PREFIX": f"bench:social:{port}:"}
    if redis_url:
        env["SOCIAL_REDIS_URL"] = redis_url
    server = subprocess.Popen([sys.executable, "-m", "subgraphs.social"], cwd=ROOT, env=env)  # noqa: ASYNC220
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                try:
                    if (await http.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            members = [f"user{i}" for i in range(subscribers)]
            created = await http.post("/graphql", headers={"authorization": f"Bearer {_token('sender')}"}, json={
                "query": "mutation($m: [ID!]!) { createConversation(memberIds: $m) { id } }", "variables": {"m": members}})
            conversation = created.json()["data"]["createConversation"]["id"]
            rss_before = _rss_kib(server.pid)
            ready: asyncio.Queue[None] = asyncio.Queue()
            latencies: list[float] = []
            url = base.replace("http://", "ws://") + "/graphql"
            tasks = [asyncio.create_task(_subscriber(url, m, conversation, ready, latencies, messages)) for m in members]
            for _ in members:
                await ready.get()
            await asyncio.sleep(1.0)  # let the last subscribe messages reach the KV
            rss_after = _rss_kib(server.pid)
            send_times: list[float] = []
            headers = {"authorization": f"Bearer {_token('sender')}"}
            started = time.perf_counter()
            for i in range(messages):
                target = started + i / rate
                await asyncio.sleep(max(0.0, target - time.perf_counter()))
                begin = time.perf_counter()
                response = await http.post("/graphql", headers=headers, json={
                    "query": "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }",
                    "variables": {"c": conversation, "t": repr(time.time())}})
                assert "errors" not in response.json(), response.text
                send_times.append(time.perf_counter() - begin)
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = [v * 1000 for v in latencies]
    return {
        "subscribers": subscribers, "messages": messages, "target_rate_per_s": rate,
        "deliveries": len(latencies), "deliveries_per_s": round(len(latencies) / elapsed, 1),
        "kv": "redis" if redis_url else "in-memory",
        "send_ms_p50": round(statistics.median(send_times) * 1000, 1),
        "send_ms_p95": round(_pct(send_times, 95) * 1000, 1),
        "delivery_ms_p50": round(_pct(ms, 50), 1), "delivery_ms_p95": round(_pct(ms, 95), 1),
        "delivery_ms_p99": round(_pct(ms, 99), 1),
        "server_kib_per_subscription": round((rss_after - rss_before) / max(1, subscribers), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=255)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args.subscribers, args.messages, args.rate, args.redis_url))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
