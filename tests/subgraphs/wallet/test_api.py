"""The wallet's GraphQL API through the app factory: auth, errors with codes, entities, flows."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.auth import SigningKeys, TokenIssuer, TokenVerifier
from shared.redis import MemoryStore, create_kv
from shared.service_auth import ServiceIdentity
from shared.testing import serve_app
from subgraphs.wallet.app import create_app
from subgraphs.wallet.config import WalletSettings
from subgraphs.wallet.models import utcnow
from subgraphs.wallet.services.deposits import settle_due
from subgraphs.wallet.services.outbox import TOPIC_SUSPICIOUS, list_events
from tests._peers import peer_stack
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries, fund

ISSUER = TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")
VERIFIER = TokenVerifier.for_issuer(ISSUER)


def token(user: str) -> str:
    return ISSUER.issue_access_token(user_id=user, roles=["USER"])


class Api:
    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        self.client = client
        self.app = app

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, *,
                       user: str | None = None, headers: dict[str, str] | None = None,
                       gateway: bool = False) -> dict[str, Any]:
        h = dict(headers or {})
        if gateway:  # `_entities` answers the gateway's own credential only
            keys = peer_stack().keys["gateway"]
            h["x-service-token"] = ServiceIdentity(name="gateway", keys=keys).issue(audience="wallet")
        if user:
            h["authorization"] = f"Bearer {token(user)}"
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def _settings(tmp_path, **overrides: Any) -> WalletSettings:  # type: ignore[no-untyped-def]
    key = base64.b64encode(os.urandom(32)).decode()
    # The real identity and social on loopback know the people and posts the tests tip.
    stack = peer_stack()
    stack.add_users("alice", "bob", "carol", "dave", "creator", "fan")
    stack.add_posts("p1", "p2", author_id="bob")
    values = {**stack.settings_for("wallet"), **overrides}
    return WalletSettings(environment="test", data_dir=str(tmp_path), migrate_on_startup=False,
                          encryption_keys=f"t1:{key}", **values)


@pytest.fixture
async def api(db, tmp_path, request) -> AsyncIterator[Api]:  # type: ignore[no-untyped-def]
    overrides = getattr(request, "param", {})
    kv = create_kv(None, prefix=f"test:wallet:{uuid.uuid4().hex}:", store=MemoryStore())
    routes_kv = create_kv(None, prefix="test:events:", store=MemoryStore())
    app = create_app(_settings(tmp_path, **overrides), verifier=VERIFIER, database=db, kv=kv,
                     routes_kv=routes_kv)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield Api(client, app)


SEND = """mutation($to: ID!, $amount: String!, $key: String!, $currency: String! = "USD",
                   $postId: ID, $message: String) {
  sendTip(to: $to, amount: $amount, idempotencyKey: $key, currency: $currency, postId: $postId,
          message: $message) {
    id from { id } to { id } post { id } amount { currency amount minorUnits } message
  }
}"""


def _code(result: dict[str, Any]) -> tuple[str, str | None]:
    error = result["errors"][0]["extensions"]
    return error["code"], error.get("reason")


async def test_send_tip_and_read_it_back(api, db) -> None:
    await fund(db, "alice", 10_000)
    result = await api(SEND, {"to": "bob", "amount": "12.50", "key": "k1", "postId": "p1",
                              "message": "great post"}, user="alice")
    assert "errors" not in result, result
    tip = result["data"]["sendTip"]
    assert tip["from"] == {"id": "alice"} and tip["to"] == {"id": "bob"} and tip["post"] == {"id": "p1"}
    assert tip["amount"] == {"currency": "USD", "amount": "12.50", "minorUnits": "1250"}
    assert tip["message"] == "great post"
    replay = await api(SEND, {"to": "bob", "amount": "12.50", "key": "k1", "postId": "p1",
                              "message": "great post"}, user="alice")
    assert replay["data"]["sendTip"]["id"] == tip["id"]
    conflict = await api(SEND, {"to": "bob", "amount": "1.00", "key": "k1"}, user="alice")
    assert _code(conflict)[0] == "CONFLICT"
    query = "query($id: ID!) { tip(id: $id) { message amount { amount } } }"
    assert (await api(query, {"id": tip["id"]}, user="bob"))["data"]["tip"]["message"] == "great post"
    assert (await api(query, {"id": tip["id"]}, user="carol"))["data"]["tip"] == {
        "message": None, "amount": {"amount": "12.50"}}
    assert (await api(query, {"id": tip["id"]}))["data"]["tip"]["message"] is None
    wallet = await api("{ myWallet { balances { currency amount } } }", user="alice")
    assert wallet["data"]["myWallet"]["balances"] == [{"currency": "USD", "amount": "87.50"}]
    await assert_balanced(db)


async def test_entities_extend_user_and_post(api, db) -> None:
    await fund(db, "alice", 10_000)
    await api(SEND, {"to": "bob", "amount": "1.00", "key": "1", "postId": "p1"}, user="alice")
    await api(SEND, {"to": "bob", "amount": "2.00", "key": "2", "postId": "p1"}, user="alice")
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on User { id tipsReceivedTotal { amount } tipsSentTotal { amount } tipsReceived(first: 1) { amount { amount } } }
      ... on Post { id tipsTotal { currency minorUnits } } } }"""
    reps = [{"__typename": "User", "id": "bob"}, {"__typename": "User", "id": "alice"},
            {"__typename": "Post", "id": "p1"}, {"__typename": "Post", "id": "p2"}]
    refused = await api(query, {"r": reps})
    assert refused["data"] is None and _code(refused) == ("FORBIDDEN", "GATEWAY_ONLY")
    sdl = await api("{ _service { sdl } }")
    assert _code(sdl) == ("FORBIDDEN", "GATEWAY_ONLY")
    hidden = await api("query Q { ...F } fragment F on Query { _service { sdl } }")
    assert _code(hidden) == ("FORBIDDEN", "GATEWAY_ONLY")
    result = await api(query, {"r": reps}, gateway=True)
    assert result == {"data": {"_entities": [
        {"id": "bob", "tipsReceivedTotal": [{"amount": "3.00"}], "tipsSentTotal": [],
         "tipsReceived": [{"amount": {"amount": "2.00"}}]},
        {"id": "alice", "tipsReceivedTotal": [], "tipsSentTotal": [{"amount": "3.00"}], "tipsReceived": []},
        {"id": "p1", "tipsTotal": [{"currency": "USD", "minorUnits": "300"}]},
        {"id": "p2", "tipsTotal": []},
    ]}}


BAD = [
    ({"amount": "-5.00"}, ("BAD_USER_INPUT", "NOT_POSITIVE")),
    ({"amount": "0"}, ("BAD_USER_INPUT", "NOT_POSITIVE")),
    ({"amount": "100.01"}, ("BAD_USER_INPUT", "INSUFFICIENT_FUNDS")),
    ({"amount": "99999999999999999999"}, ("BAD_USER_INPUT", "TOO_LARGE")),
    ({"amount": "90071992547409.92"}, ("BAD_USER_INPUT", "TOO_LARGE")),
    ({"currency": "ABC"}, ("BAD_USER_INPUT", "UNKNOWN_CURRENCY")),
    ({"to": "alice"}, ("BAD_USER_INPUT", "SELF_TIP")),
    ({"key": ""}, ("BAD_USER_INPUT", "MISSING_IDEMPOTENCY_KEY")),
    ({"key": None}, ("BAD_USER_INPUT", None)),  # a null for String! fails variable coercion
]


@pytest.mark.parametrize(("override", "expected"), BAD, ids=[f"{e[1]}-{i}" for i, (_, e) in enumerate(BAD)])
async def test_bad_tips_get_coded_errors_and_write_nothing(api, db, override, expected) -> None:  # type: ignore[no-untyped-def]
    await fund(db, "alice", 10_000)
    before = await count_entries(db)
    variables = {"to": "bob", "amount": "1.00", "key": "k", **override}
    result = await api(SEND, variables, user="alice")
    assert result.get("data") in (None, {"sendTip": None}) or result["data"] is None
    assert _code(result) == expected
    assert await count_entries(db) == before


async def test_missing_key_argument_and_anonymous_caller(api, db) -> None:
    no_key = await api('mutation { sendTip(to: "bob", amount: "1.00") { id } }', user="alice")
    assert _code(no_key)[0] == "GRAPHQL_VALIDATION_FAILED"
    overflow = await api('mutation { sendTip(to: "bob", amount: 99999999999, idempotencyKey: "k") { id } }', user="alice")
    assert _code(overflow)[0] == "GRAPHQL_VALIDATION_FAILED"
    anonymous = await api(SEND, {"to": "bob", "amount": "1.00", "key": "k"})
    assert _code(anonymous)[0] == "UNAUTHENTICATED"
    assert _code(await api("{ myWallet { balances { amount } } }"))[0] == "UNAUTHENTICATED"
    response = await api.client.post("/graphql", json={"query": "{ currencies { code } }"},
                                      headers={"authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert await count_entries(db) == 0


async def test_a_tip_to_an_unknown_user_or_post_moves_nothing(api, db) -> None:
    await fund(db, "alice", 10_000)
    entries = await count_entries(db)
    ghost = await api(SEND, {"to": "nobody-has-this-id", "amount": "5.00", "key": "g1"}, user="alice")
    assert ghost["data"] is None and _code(ghost)[0] == "NOT_FOUND"
    assert ghost["errors"][0]["extensions"]["field"] == "to"
    ghost_post = await api(SEND, {"to": "bob", "amount": "5.00", "key": "g2", "postId": "p-ghost"},
                           user="alice")
    assert _code(ghost_post)[0] == "NOT_FOUND"
    assert ghost_post["errors"][0]["extensions"]["field"] == "postId"
    assert await count_entries(db) == entries
    wallet = await api("{ myWallet { balances { amount } } }", user="alice")
    assert wallet["data"]["myWallet"]["balances"] == [{"amount": "100.00"}]
    board = await api("{ leaderboard(kind: CREATORS, period: DAY) { rank } }")
    assert board["data"]["leaderboard"] == []
    # The same key after the mistake is fixed: nothing was claimed by the refused attempt.
    fixed = await api(SEND, {"to": "bob", "amount": "5.00", "key": "g1"}, user="alice")
    assert fixed["data"]["sendTip"]["to"] == {"id": "bob"}


@pytest.mark.parametrize("api", [{"peers": {"identity": "http://127.0.0.1:9",
                                            "social": "http://127.0.0.1:9"}}], indirect=True)
async def test_a_tip_fails_closed_when_identity_cannot_answer(api, db) -> None:
    await fund(db, "alice", 10_000)
    entries = await count_entries(db)
    result = await api(SEND, {"to": "bob", "amount": "5.00", "key": "u1"}, user="alice")
    assert _code(result)[0] == "SERVICE_UNAVAILABLE"
    assert "127.0.0.1" not in result["errors"][0]["message"]
    assert await count_entries(db) == entries


async def test_a_tip_fails_closed_when_social_cannot_say_whether_a_block_stands(db, tmp_path) -> None:
    """The recipient exists (identity answers) but social's block check cannot be asked: the
    tip is refused with SERVICE_UNAVAILABLE and no money moves."""
    settings = _settings(tmp_path, peers={"identity": peer_stack().urls["identity"],
                                          "social": "http://127.0.0.1:9"})
    app = create_app(settings, verifier=VERIFIER, database=db,
                     kv=create_kv(None, prefix=f"test:wallet:{uuid.uuid4().hex}:", store=MemoryStore()),
                     routes_kv=create_kv(None, prefix="test:events:", store=MemoryStore()))
    await fund(db, "alice", 10_000)
    entries = await count_entries(db)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as client:
        result = await Api(client, app)(SEND, {"to": "bob", "amount": "5.00", "key": "s1"}, user="alice")
    assert _code(result)[0] == "SERVICE_UNAVAILABLE"
    assert await count_entries(db) == entries


async def test_leaderboards_through_graphql(api, db) -> None:
    await fund(db, "alice", 10_000)
    await fund(db, "carol", 10_000)
    await api(SEND, {"to": "bob", "amount": "5.00", "key": "1"}, user="alice")
    await api(SEND, {"to": "dave", "amount": "1.00", "key": "2"}, user="carol")
    board = await api("""{ leaderboard(kind: CREATORS, period: DAY) { rank user { id } total { amount } } }""")
    assert board["data"]["leaderboard"] == [
        {"rank": 1, "user": {"id": "bob"}, "total": {"amount": "5.00"}},
        {"rank": 2, "user": {"id": "dave"}, "total": {"amount": "1.00"}},
    ]
    await api(SEND, {"to": "dave", "amount": "6.00", "key": "3"}, user="carol")
    mine = await api("{ myLeaderboardRank(kind: TIPPERS, period: WEEK) { rank total { amount } } }", user="carol")
    assert mine["data"]["myLeaderboardRank"] == {"rank": 1, "total": {"amount": "7.00"}}
    bad = await api('{ leaderboard(kind: TIPPERS, currency: "XXX") { rank } }')
    assert _code(bad) == ("BAD_USER_INPUT", "UNKNOWN_CURRENCY")


async def test_deposit_and_cashout_flow(api, db) -> None:
    created = await api('mutation { createDeposit(amount: "50.00", currency: "USD", idempotencyKey: "d") { id status } }', user="alice")
    deposit = created["data"]["createDeposit"]
    assert deposit["status"] == "REQUIRES_CONFIRMATION"
    confirmed = await api("mutation($id: ID!) { confirmSandboxDeposit(id: $id) { status amount { amount } settled } }",
                          {"id": deposit["id"]}, user="alice")
    assert confirmed["data"]["confirmSandboxDeposit"] == {"status": "SUCCEEDED", "amount": {"amount": "50.00"},
                                                          "settled": False}
    stolen = await api("mutation($id: ID!) { confirmSandboxDeposit(id: $id) { status } }", {"id": deposit["id"]}, user="bob")
    assert _code(stolen)[0] == "NOT_FOUND"
    # Settling (the default 72 hours): visible, but neither cashed out nor tipped.
    wallet = await api("{ myWallet { balances { amount } settling { amount } owed { amount } } }", user="alice")
    assert wallet["data"]["myWallet"] == {"balances": [{"amount": "0.00"}], "settling": [{"amount": "50.00"}],
                                          "owed": []}
    early = await api('mutation { requestCashout(amount: "20.00", currency: "USD", idempotencyKey: "c0") { id } }', user="alice")
    assert _code(early) == ("BAD_USER_INPUT", "INSUFFICIENT_FUNDS")
    tipped = await api(SEND, {"to": "bob", "amount": "1.00", "key": "t0"}, user="alice")
    assert _code(tipped) == ("BAD_USER_INPUT", "INSUFFICIENT_FUNDS")
    async with db.session() as session:
        assert await settle_due(session=session, now=utcnow() + timedelta(hours=72, seconds=1)) == 1
    cashout = await api('mutation { requestCashout(amount: "20.00", currency: "USD", idempotencyKey: "c") { id status } }', user="alice")
    assert cashout["data"]["requestCashout"]["status"] == "REQUESTED"
    await api.app.state.wallet_events.worker.join()
    listed = await api("{ myCashouts { status amount { amount } } myWallet { balances { amount } settling { amount } } }", user="alice")
    assert listed["data"] == {"myCashouts": [{"status": "PAID", "amount": {"amount": "20.00"}}],
                              "myWallet": {"balances": [{"amount": "30.00"}], "settling": []}}
    too_much = await api('mutation { requestCashout(amount: "30.01", currency: "USD", idempotencyKey: "c2") { id } }', user="alice")
    assert _code(too_much) == ("BAD_USER_INPUT", "INSUFFICIENT_FUNDS")
    await assert_balanced(db)


@pytest.mark.parametrize("api", [{"tip_limit_per_minute": 3, "suspicious_tip_minor": 500}], indirect=True)
async def test_velocity_limits_and_suspicious_movements(api, db) -> None:
    await fund(db, "alice", 10_000)
    for i in range(3):
        ok = await api(SEND, {"to": "bob", "amount": "1.00" if i else "5.00", "key": f"v{i}"}, user="alice")
        assert "errors" not in ok
    limited = await api(SEND, {"to": "bob", "amount": "1.00", "key": "v3"}, user="alice")
    assert _code(limited)[0] == "RATE_LIMITED"
    assert limited["errors"][0]["extensions"]["retryAfter"] > 0
    again = await api(SEND, {"to": "bob", "amount": "1.00", "key": "v4"}, user="alice")
    assert _code(again)[0] == "RATE_LIMITED"
    assert await count_entries(db) == 4
    async with db.session() as session:
        reasons = [e.payload["reason"] for e in await list_events(session=session, topic=TOPIC_SUSPICIOUS)]
    assert sorted(reasons) == ["LARGE_TIP", "VELOCITY"]  # one velocity report per window


async def _subscribers(kv, channel: str) -> int:  # type: ignore[no-untyped-def]
    return len(kv.store.subscribers.get(kv.prefix + channel, ()))


async def test_tip_received_subscription(api, db) -> None:
    import asyncio
    import json

    import websockets

    from subgraphs.wallet.resolvers.mutation import tip_channel

    await fund(db, "alice", 10_000)
    url = str(api.client.base_url).replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token('bob')}"}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { tipReceived { from { id } amount { amount } message } }"}}))
        kv = api.app.state.kv
        while await _subscribers(kv, tip_channel("bob")) < 1:
            await asyncio.sleep(0.01)
        await api(SEND, {"to": "carol", "amount": "1.00", "key": "other"}, user="alice")
        await api(SEND, {"to": "bob", "amount": "2.00", "key": "mine", "message": "hey"}, user="alice")
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message == {"id": "1", "type": "next", "payload": {"data": {"tipReceived": {
        "from": {"id": "alice"}, "amount": {"amount": "2.00"}, "message": "hey"}}}}


async def test_creator_subscriptions_through_graphql(api, db) -> None:
    await fund(db, "fan", 2_000)
    plan = await api('mutation { createPlan(name: "Gold", price: "5.00") { id name price { amount } creator { id } } }',
                     user="creator")
    plan_id = plan["data"]["createPlan"]["id"]
    assert plan["data"]["createPlan"]["creator"] == {"id": "creator"}
    sub = await api("mutation($p: ID!) { subscribeToPlan(planId: $p, idempotencyKey: \"s\") { id status price { amount } } }",
                    {"p": plan_id}, user="fan")
    assert sub["data"]["subscribeToPlan"]["status"] == "ACTIVE"
    twice = await api("mutation($p: ID!) { subscribeToPlan(planId: $p, idempotencyKey: \"s2\") { id } }", {"p": plan_id}, user="fan")
    assert _code(twice) == ("CONFLICT", "ALREADY_SUBSCRIBED")
    plans = await api('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { plans { name } } } }',
                      {"r": [{"__typename": "User", "id": "creator"}]}, gateway=True)
    assert plans["data"]["_entities"] == [{"plans": [{"name": "Gold"}]}]
    sub_id = sub["data"]["subscribeToPlan"]["id"]
    canceled = await api("mutation($id: ID!) { cancelSubscription(id: $id) { cancelAtPeriodEnd status } }", {"id": sub_id}, user="fan")
    assert canceled["data"]["cancelSubscription"] == {"cancelAtPeriodEnd": True, "status": "ACTIVE"}
    mine = await api("{ mySubscriptions { id status } myWallet { balances { amount } } }", user="fan")
    assert mine["data"] == {"mySubscriptions": [{"id": sub_id, "status": "ACTIVE"}],
                            "myWallet": {"balances": [{"amount": "15.00"}]}}
    await assert_balanced(db)


async def test_tip_received_without_a_caller_is_unauthenticated(api) -> None:
    import asyncio
    import json

    import websockets

    url = str(api.client.base_url).replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { tipReceived { id } }"}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    # the error is raised as the subscription starts, where no extension formats the result
    assert message == {"id": "1", "type": "next", "payload": {"data": None, "errors": [
        {"message": "Authentication required", "extensions": {"code": "UNAUTHENTICATED"}}]}}


async def test_escrow_is_served_on_the_internal_port_only(api) -> None:
    public = await api.client.post("/internal/escrow/holds", json={})
    assert public.status_code == 404
    internal_url = api.app.state.internal_url
    assert internal_url and internal_url != str(api.client.base_url)
    async with httpx.AsyncClient(base_url=internal_url) as internal:
        refused = await internal.post("/internal/escrow/holds", json={})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("api", [{"introspection": False}], indirect=True)
async def test_no_suggestions_with_introspection_off(api) -> None:
    typo = await api("{ myWalet { balances { amount } } }", user="alice")
    assert typo["errors"][0]["message"] == "Cannot query field 'myWalet' on type 'Query'."
    assert typo["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_suggestions_help_while_introspection_is_on(api) -> None:
    typo = await api("{ myWalet { balances { amount } } }", user="alice")
    assert "Did you mean 'myWallet'?" in typo["errors"][0]["message"]
