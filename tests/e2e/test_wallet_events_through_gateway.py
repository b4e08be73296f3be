"""Tried as a new user and an admin would, through the gateway: wallet events become notifications.

identity, social, wallet and a gateway run for real on loopback. Wallet and social do not share
a KV, so no KV route of social's could ever reach wallet's relay: the events arrive because
social is the declared consumer of wallet's topics (shared/event_catalog.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from shared.db import create_database
from subgraphs.identity.app import create_app as create_identity
from subgraphs.wallet import workers as wallet_workers
from subgraphs.wallet.models import Account
from tests.e2e._stack import (
    Api,
    identity_settings,
    memory_kv,
    register_and_login,
    serve,
    social_settings,
    start_gateway,
    start_social,
    start_wallet,
    stopping,
    supergraph_of,
    wallet_settings,
)
from tests.subgraphs.wallet.helpers import fund

MINE = "{ notifications { edges { node { kind subjectId data } } } }"
ADMIN = "{ adminNotifications { edges { node { kind subjectId actor { id } data } } } }"
CASHOUT = """mutation { requestCashout(amount: "20.00", currency: "USD", idempotencyKey: "c1") {
  id status } }"""
TIP = """mutation($to: ID!) { sendTip(to: $to, amount: "50.00", idempotencyKey: "big") { id } }"""


async def _until(api: Api, query: str, token: str, field: str, count: int) -> list[dict[str, Any]]:
    """Poll through the gateway until `count` notifications are there (the relay is a poller)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        nodes = [e["node"] for e in (await api.data(query, token=token))[field]["edges"]]
        if len(nodes) >= count:
            return nodes
        assert loop.time() < deadline, nodes
        await asyncio.sleep(0.05)


async def test_cashout_suspicious_tip_and_ledger_break_notify_through_the_gateway(tmp_path: Path):
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity = await serve(create_identity(
            identity_settings(tmp_path, bootstrap_admin_handle="root_admin"),
            kv=memory_kv("tributary:test:e2e:events:identity:")))
        servers.append(identity)
        social = await start_social(servers, social_settings(tmp_path, identity=identity,
                                                             outbox_poll_interval=0.05),
                                    kv=memory_kv("tributary:test:e2e:events:social:"),
                                    routes_kv=memory_kv("tributary:test:e2e:events:routes-a:"))
        settings = wallet_settings(tmp_path, identity=identity, social=social,
                                   database_url=f"sqlite+aiosqlite:///{tmp_path}/wallet.db",
                                   outbox_poll_interval=0.05, suspicious_tip_minor=1_000,
                                   migrate_on_startup=True)
        wallet_db = create_database(settings.database_url)
        wallet = await start_wallet(servers, settings, database=wallet_db)
        supergraph = await supergraph_of({"identity": identity.graphql, "social": social.graphql,
                                          "wallet": wallet.graphql})
        gateway = await start_gateway(servers, supergraph, identity=identity)
        api = Api(http, gateway.graphql)
        admin = await register_and_login(api, "root_admin", "Root")
        alice = await register_and_login(api, "alice_events", "Alice")
        bob = await register_and_login(api, "bob_events", "Bob")
        await fund(wallet_db, alice.id, 10_000)

        cashout = (await api.data(CASHOUT, token=alice.token))["requestCashout"]
        # processing, then paid: the owner hears of both (not of the request they made).
        mine = await _until(api, MINE, alice.token, "notifications", 2)
        assert sorted(n["data"]["status"] for n in mine) == ["paid", "processing"]
        assert {(n["kind"], n["subjectId"]) for n in mine} == {("CASHOUT", cashout["id"])}

        tip = (await api.data(TIP, {"to": bob.id}, token=alice.token))["sendTip"]
        async with wallet_db.session() as session:  # the ledger's cached balance goes wrong
            await session.execute(sa.update(Account).where(Account.owner_id == bob.id)
                                  .values(balance=1))
            await session.commit()
        report = await wallet_workers.reconcile_ledger(wallet_db)
        assert [b.kind for b in report.breaks] == ["cached_mismatch"]
        alerts = await _until(api, ADMIN, admin.token, "adminNotifications", 2)
        assert sorted((n["kind"], n["subjectId"], (n["actor"] or {}).get("id")) for n in alerts) == [
            ("RECONCILIATION_BREAK", report.breaks[0].subject, None),
            ("SUSPICIOUS_ACTIVITY", tip["id"], alice.id),
        ]
        refused = await api(ADMIN, token=alice.token)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
        # Exactly two for alice (none for the request she made); bob has his tip.
        assert len(await _until(api, MINE, alice.token, "notifications", 2)) == 2
        bobs = await _until(api, MINE, bob.token, "notifications", 1)
        assert [n["kind"] for n in bobs] == ["TIP"]
        await wallet_db.dispose()
