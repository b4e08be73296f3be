"""A wallet row naming a user identity does not know, read through a composed gateway.

The ghost rows are written straight into the wallet database (no service check can stop them):
the leaderboard and the tip lists must still answer every real entry, with only the ghost's
`user`/`from`/`to` null and an error with a code at its path, never `data: null`.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from shared.db import Database
from subgraphs.wallet.models import Tip
from subgraphs.wallet.services.ledger import (
    Posting,
    new_id,
    post_entry,
    user_account,
    write_transaction,
)
from tests.e2e._stack import (
    Api,
    register_and_login,
    start_gateway,
    start_identity,
    start_wallet,
    stopping,
    supergraph_of,
    wallet_settings,
)
from tests.subgraphs.wallet.helpers import fund

LEADERBOARD = """query($kind: LeaderboardKind!) {
  leaderboard(kind: $kind) { rank user { id handle } total { amount } }
}"""
TIPS = """query($id: ID!) {
  user(id: $id) {
    handle
    tipsSent { to { id handle } amount { amount } }
    tipsReceived { from { id handle } amount { amount } }
  }
}"""


async def _write_tip(db: Database, sender: str, recipient: str, minor: int) -> None:
    """A tip row and its journal entry, as `send_tip` would leave them, minus every check."""
    async with db.session() as session, write_transaction(session):
        entry = await post_entry(session, kind="tip", postings=[
            Posting(account=user_account(sender, "USD"), amount=-minor),
            Posting(account=user_account(recipient, "USD"), amount=minor),
        ])
        session.add(Tip(id=new_id(), sender_id=sender, recipient_id=recipient, currency="USD",
                        amount=minor, entry_id=entry))
        await session.commit()


def _assert_coded_errors(body: dict[str, Any], *paths: list[Any]) -> None:
    """Errors only at (or under) the ghosts' paths, one at least at each, each with a code."""
    errors = body.get("errors") or []
    assert all(any(e["path"][: len(p)] == p for p in paths) for e in errors), errors
    assert all(any(e["path"][: len(p)] == p for e in errors) for p in paths), errors
    assert all((e.get("extensions") or {}).get("code") for e in errors), errors


async def test_ghost_rows_null_only_the_ghost_through_the_gateway(db: Database, tmp_path: Path) -> None:
    ghost = str(uuid.uuid4())  # shaped like identity's ids, but no account has it
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity = await start_identity(servers, tmp_path)
        wallet = await start_wallet(servers, wallet_settings(tmp_path, identity=identity),
                                    database=db)
        supergraph = await supergraph_of({"identity": identity.graphql, "wallet": wallet.graphql})
        api = Api(http, (await start_gateway(servers, supergraph, identity=identity)).graphql)
        alice = await register_and_login(api, "alice_ghost", "Alice")
        bob = await register_and_login(api, "bob_ghost", "Bob")
        await fund(db, alice.id, 10_000)
        await fund(db, ghost, 10_000)
        await _write_tip(db, alice.id, bob.id, 300)
        await _write_tip(db, alice.id, ghost, 500)
        await _write_tip(db, ghost, bob.id, 100)

        creators = await api(LEADERBOARD, {"kind": "CREATORS"})
        assert creators["data"] == {"leaderboard": [
            {"rank": 1, "user": None, "total": {"amount": "5.00"}},
            {"rank": 2, "user": {"id": bob.id, "handle": bob.handle}, "total": {"amount": "4.00"}},
        ]}
        _assert_coded_errors(creators, ["leaderboard", 0, "user"])

        tippers = await api(LEADERBOARD, {"kind": "TIPPERS"})
        assert tippers["data"] == {"leaderboard": [
            {"rank": 1, "user": {"id": alice.id, "handle": alice.handle}, "total": {"amount": "8.00"}},
            {"rank": 2, "user": None, "total": {"amount": "1.00"}},
        ]}
        _assert_coded_errors(tippers, ["leaderboard", 1, "user"])

        sent = await api(TIPS, {"id": alice.id})
        assert sent["data"]["user"]["tipsSent"] == [
            {"to": None, "amount": {"amount": "5.00"}},
            {"to": {"id": bob.id, "handle": bob.handle}, "amount": {"amount": "3.00"}},
        ]
        _assert_coded_errors(sent, ["user", "tipsSent", 0, "to"])

        received = await api(TIPS, {"id": bob.id})
        assert received["data"]["user"]["tipsReceived"] == [
            {"from": None, "amount": {"amount": "1.00"}},
            {"from": {"id": alice.id, "handle": alice.handle}, "amount": {"amount": "3.00"}},
        ]
        _assert_coded_errors(received, ["user", "tipsReceived", 0, "from"])
