"""Tried as a new user would, through the gateway: our subgraphs' @authenticated and
@requiresScopes fields are judged at the gateway before planning, so the owning subgraph is not
even asked for a field the caller may not read (it still checks, too)."""

from __future__ import annotations

from pathlib import Path

import httpx

from shared.db import create_database
from subgraphs.identity.app import create_app as create_identity
from tests.e2e._stack import (
    CREATE_KEY_QUERY,
    Api,
    identity_settings,
    memory_kv,
    register_and_login,
    serve,
    start_gateway,
    start_wallet,
    stopping,
    supergraph_of,
    wallet_settings,
)
from tests.gateway.frontdoor._guarded import Counting

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
BALANCE = "{ myWallet { balances { amount } } }"


async def test_private_fields_are_removed_before_planning(tmp_path: Path) -> None:
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity_app = Counting(create_identity(identity_settings(tmp_path),
                                                kv=memory_kv("tributary:test:e2e:authz:identity:")))
        servers.append(identity := await serve(identity_app))
        settings = wallet_settings(tmp_path, identity=identity,
                                   database_url=f"sqlite+aiosqlite:///{tmp_path}/wallet.db")
        wallet_app = Counting(None)
        wallet = await start_wallet(servers, settings.model_copy(update={"migrate_on_startup": True}),
                                    database=create_database(settings.database_url), wrap=wallet_app)
        supergraph = await supergraph_of({"identity": identity.graphql, "wallet": wallet.graphql})
        gateway = await start_gateway(servers, supergraph, identity=identity)
        api = Api(http, gateway.graphql)
        alice = await register_and_login(api, "alice_authz", "Alice")

        # anonymous: email answers null with the gateway's code; identity never sees `email`
        identity_app.queries.clear()
        anonymous = await api('{ user(handle: "alice_authz") { handle email } }')
        assert anonymous["data"] == {"user": {"handle": "alice_authz", "email": None}}
        assert anonymous["errors"] == [{"message": "Unauthorized field or type",
                                        "path": ["user", "email"], "extensions": {"code": UNAUTHORIZED}}]
        assert len(identity_app.queries) == 1
        assert "email" not in identity_app.queries[0]
        # signed in, the same query reaches identity with the field, which answers it
        own = await api('{ user(handle: "alice_authz") { handle email } }', token=alice.token)
        assert "errors" not in own and "email" in identity_app.queries[-1]

        # an API key without a wallet scope cannot read the wallet: refused at the gateway
        reader = (await api(CREATE_KEY_QUERY, {"scopes": ["identity:read"]}, token=alice.token))
        key = reader["data"]["createApiKey"]["secret"]
        wallet_app.queries.clear()
        refused = (await http.post(gateway.graphql, json={"query": BALANCE},
                                   headers={"authorization": f"ApiKey {key}"})).json()
        assert refused["data"] is None
        assert [(e["path"], e["extensions"]["code"]) for e in refused["errors"]] == [
            (["myWallet"], UNAUTHORIZED)]
        assert wallet_app.queries == []
        # with wallet:read (and for the signed-in user herself) the wallet answers
        scoped = (await api(CREATE_KEY_QUERY, {"scopes": ["wallet:read"]}, token=alice.token))
        allowed = (await http.post(gateway.graphql, json={"query": BALANCE}, headers={
            "authorization": f"ApiKey {scoped['data']['createApiKey']['secret']}"})).json()
        assert allowed == {"data": {"myWallet": {"balances": []}}}, allowed
        assert (await api(BALANCE, token=alice.token)) == {"data": {"myWallet": {"balances": []}}}
        assert len(wallet_app.queries) == 2
        # a key identity does not know is refused at the door
        unknown = await http.post(gateway.graphql, json={"query": BALANCE},
                                  headers={"authorization": "ApiKey trb_not-a-key"})
        assert unknown.status_code == 401
