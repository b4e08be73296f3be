"""Blocks tried as a new user would, through the gateway: identity, social, wallet and a
gateway run for real on loopback. After Alice blocks Bob, Bob's follow, DM, mention and tip
answer FORBIDDEN (reason NOT_ALLOWED, nothing about a block) and write nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import func, select

from shared.db import create_database
from subgraphs.social.models import Conversation, Follow, Post
from tests.e2e._stack import (
    Api,
    memory_kv,
    register_and_login,
    social_settings,
    start_gateway,
    start_identity,
    start_social,
    start_wallet,
    stopping,
    supergraph_of,
    wallet_settings,
)
from tests.subgraphs.wallet.helpers import count_entries, fund, user_balance

TIP = """mutation($to: ID!, $key: String!) {
  sendTip(to: $to, amount: "5.00", idempotencyKey: $key) { id }
}"""


async def _rows(database, model) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_blocked_user_cannot_follow_dm_mention_or_tip_the_blocker(tmp_path: Path) -> None:
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity = await start_identity(servers, tmp_path)
        settings = social_settings(tmp_path, identity=identity)
        social_db = create_database(settings.database_url)
        social = await start_social(servers, settings, kv=memory_kv("tributary:test:e2e:consent:social:"),
                                    routes_kv=memory_kv("tributary:test:e2e:consent:routes:"),
                                    database=social_db)
        w_settings = wallet_settings(tmp_path, identity=identity, social=social,
                                     database_url=f"sqlite+aiosqlite:///{tmp_path}/wallet.db")
        wallet_db = create_database(w_settings.database_url)
        wallet = await start_wallet(servers, w_settings.model_copy(update={"migrate_on_startup": True}),
                                    database=wallet_db)
        supergraph = await supergraph_of({"identity": identity.graphql, "social": social.graphql,
                                          "wallet": wallet.graphql})
        api = Api(http, (await start_gateway(servers, supergraph, identity=identity)).graphql)
        alice = await register_and_login(api, "alice_consent", "Alice")
        bob = await register_and_login(api, "bob_consent", "Bob")
        await fund(wallet_db, bob.id, 10_000)

        await api.data("mutation($u: ID!) { follow(userId: $u) { id } }", {"u": alice.id}, token=bob.token)
        blocked = await api.data("mutation($u: ID!) { block(userId: $u) { id isBlockedByMe } }",
                                 {"u": bob.id}, token=alice.token)
        assert blocked["block"] == {"id": bob.id, "isBlockedByMe": True}
        counts = {m: await _rows(social_db, m) for m in (Follow, Conversation, Post)}
        entries = await count_entries(wallet_db)
        assert counts[Follow] == 0  # the block ended Bob's follow

        for query, variables in [
            ("mutation($u: ID!) { follow(userId: $u) { id } }", {"u": alice.id}),
            ("mutation($u: ID!) { openDirectConversation(userId: $u) { id } }", {"u": alice.id}),
            ('mutation($u: ID!) { createPost(input: {text: "hey", mentionUserIds: [$u]}) { id } }',
             {"u": alice.id}),
            (TIP, {"to": alice.id, "key": "tip-after-block"}),
        ]:
            result = await api(query, variables, token=bob.token)
            assert result.get("data") is None, result
            [error] = result["errors"]
            assert (error["extensions"]["code"], error["extensions"]["reason"]) == ("FORBIDDEN", "NOT_ALLOWED"), result
            assert "block" not in error["message"].lower(), result
        assert {m: await _rows(social_db, m) for m in counts} == counts
        assert await count_entries(wallet_db) == entries
        async with wallet_db.session() as session:
            assert await user_balance(session, bob.id) == 10_000
        # Bob's own view of Alice tells him nothing of the block.
        seen = await api("query($id: ID!) { user(id: $id) { isBlockedByMe isFollowedByMe } }",
                         {"id": alice.id}, token=bob.token)
        assert seen["data"]["user"] == {"isBlockedByMe": False, "isFollowedByMe": False}

        # Lifted, the same tip key goes through.
        await api.data("mutation($u: ID!) { unblock(userId: $u) { id } }", {"u": bob.id}, token=alice.token)
        tip = await api(TIP, {"to": alice.id, "key": "tip-after-block"}, token=bob.token)
        assert tip.get("errors") is None, tip
        async with wallet_db.session() as session:
            assert await user_balance(session, bob.id) == 9_500
        await social_db.dispose()
        await wallet_db.dispose()
