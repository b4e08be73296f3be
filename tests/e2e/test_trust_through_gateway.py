"""Tried as a new user would, through the gateway: ids that name nobody, and API keys.

identity, social, wallet and a gateway run for real on loopback; social and wallet check every
id with identity (and wallet checks posts with social) over their internal APIs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from shared.db import create_database
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

GHOST = "00000000-0000-4000-8000-000000000000"
TIP = """mutation($to: ID!, $key: String!) {
  sendTip(to: $to, amount: "5.00", idempotencyKey: $key) { id to { id } }
}"""
BALANCE = "{ myWallet { balances { amount } } }"
CREATE_KEY = """mutation($scopes: [String!]!) {
  createApiKey(name: "bot", scopes: $scopes) { secret }
}"""
POST = 'mutation { createPost(input: {text: "posted by a bot"}) { id author { id } } }'


async def _with_key(http: httpx.AsyncClient, url: str, key: str, query: str) -> dict[str, Any]:
    response = await http.post(url, json={"query": query}, headers={"authorization": f"ApiKey {key}"})
    return response.json()  # type: ignore[no-any-return]


async def test_unknown_ids_and_scoped_api_keys_through_the_gateway(tmp_path: Path) -> None:
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity = await start_identity(servers, tmp_path)
        social = await start_social(servers, social_settings(tmp_path, identity=identity),
                                    kv=memory_kv("tributary:test:e2e:trust:social:"),
                                    routes_kv=memory_kv("tributary:test:e2e:trust:routes:"))
        settings = wallet_settings(tmp_path, identity=identity, social=social,
                                   database_url=f"sqlite+aiosqlite:///{tmp_path}/wallet.db")
        wallet_db = create_database(settings.database_url)
        wallet = await start_wallet(servers, settings.model_copy(update={"migrate_on_startup": True}),
                                    database=wallet_db)
        supergraph = await supergraph_of({"identity": identity.graphql, "social": social.graphql,
                                          "wallet": wallet.graphql})
        gateway = await start_gateway(servers, supergraph, identity=identity)
        api = Api(http, gateway.graphql)
        alice = await register_and_login(api, "alice_trust", "Alice")
        bob = await register_and_login(api, "bob_trust", "Bob")
        await fund(wallet_db, alice.id, 10_000)
        entries = await count_entries(wallet_db)

        # A tip, follow, DM or mention naming nobody: NOT_FOUND, nothing written, no money moved.
        for query, variables in [
            (TIP, {"to": GHOST, "key": "t1"}),
            ("mutation($u: ID!) { follow(userId: $u) { id } }", {"u": GHOST}),
            ("mutation($u: ID!) { openDirectConversation(userId: $u) { id } }", {"u": GHOST}),
            ('mutation($u: ID!) { createPost(input: {text: "hi", mentionUserIds: [$u]}) { id } }',
             {"u": GHOST}),
        ]:
            result = await api(query, variables, token=alice.token)
            assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"], result
        assert await count_entries(wallet_db) == entries
        async with wallet_db.session() as session:
            assert await user_balance(session, alice.id) == 10_000
        following = await api("query($id: ID!) { user(id: $id) { followingCount } }",
                              {"id": alice.id})
        assert following["data"]["user"]["followingCount"] == 0
        # The real recipient works with the same key the refused attempt used.
        tip = await api(TIP, {"to": bob.id, "key": "t1"}, token=alice.token)
        assert tip["data"]["sendTip"]["to"] == {"id": bob.id}

        # An API key with the right scopes posts in social and reads the wallet...
        created = await api(CREATE_KEY, {"scopes": ["social:write", "wallet:read"]}, token=alice.token)
        key = created["data"]["createApiKey"]["secret"]
        posted = await _with_key(http, gateway.graphql, key, POST)
        assert posted["data"]["createPost"]["author"] == {"id": alice.id}, posted
        read = await _with_key(http, gateway.graphql, key, BALANCE)
        assert read["data"]["myWallet"]["balances"] == [{"amount": "95.00"}], read
        # ...and cannot do what its scopes leave out.
        refused = await _with_key(http, gateway.graphql, key,
                                  f'mutation {{ sendTip(to: "{bob.id}", amount: "1.00", '
                                  'idempotencyKey: "bot-1") { id } }')
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
        assert refused["errors"][0]["extensions"]["reason"] == "INSUFFICIENT_SCOPE"
        reader = (await api(CREATE_KEY, {"scopes": ["read"]}, token=alice.token))["data"]
        cannot_post = await _with_key(http, gateway.graphql, reader["createApiKey"]["secret"], POST)
        assert cannot_post["errors"][0]["extensions"]["reason"] == "INSUFFICIENT_SCOPE"
        async with wallet_db.session() as session:
            assert await user_balance(session, alice.id) == 9_500
