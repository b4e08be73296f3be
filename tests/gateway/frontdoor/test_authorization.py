"""@authenticated, @requiresScopes and @policy at the gateway, over real subgraphs: a field the
caller may not read is removed before planning (its subgraph never asked for it) and answers
null with UNAUTHORIZED_FIELD_OR_TYPE at its path, or the request is refused in reject mode."""

from __future__ import annotations

from typing import Any

from tests.gateway.frontdoor._guarded import Stack, guarded_stack, token
from tests.gateway.subscriptions._clients import WsClient

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"


def _denied(body: dict[str, Any]) -> list[list[Any]]:
    return [e["path"] for e in body.get("errors", []) if e["extensions"]["code"] == UNAUTHORIZED]


async def test_anonymous_email_is_null_and_never_fetched() -> None:
    async with guarded_stack() as stack:
        response = await stack.post("{ me { name email } }")
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == {"me": {"name": "Ada", "email": None}}
        assert body["errors"] == [{"message": "Unauthorized field or type", "path": ["me", "email"],
                                   "extensions": {"code": UNAUTHORIZED}}]
        assert stack.calls("private") == []
        assert len(stack.calls("accounts")) == 1


async def test_signed_in_caller_reads_email_from_its_subgraph() -> None:
    async with guarded_stack() as stack:
        body = (await stack.post("{ me { name email } }", bearer=token())).json()
        assert body == {"data": {"me": {"name": "Ada", "email": "1@example.test"}}}
        assert len(stack.calls("private")) == 1


async def test_list_paths_and_emptied_selections() -> None:
    async with guarded_stack() as stack:
        body = (await stack.post("{ users { email } }")).json()
        # the emptied `users` selection still fetches the list; its items' email is null
        assert body["data"] == {"users": [{"email": None}, {"email": None}]}
        assert _denied(body) == [["users", "@", "email"]]
        # a denied non-null root field nulls the whole data, as a null there would
        root = (await stack.post("{ privatePing }")).json()
        assert root["data"] is None and _denied(root) == [["privatePing"]]
        assert stack.calls("private") == []


async def test_scopes_from_scope_and_scp_claims() -> None:
    async with guarded_stack() as stack:
        query = "{ me { secret } }"
        # a first-party sign-in holds the session scopes (read, write), not read:secret
        anonymous = (await stack.post(query)).json()
        session = (await stack.post(query, bearer=token())).json()
        assert _denied(anonymous) == _denied(session) == [["me", "secret"]]
        assert stack.calls("private") == []
        by_scope = (await stack.post(query, bearer=token(scope="read:secret other"))).json()
        by_scp = (await stack.post(query, bearer=token(scp=["admin"]))).json()
        wrong = (await stack.post(query, bearer=token(scp="read:other"))).json()
        assert by_scope == by_scp == {"data": {"me": {"secret": "s1"}}}
        assert _denied(wrong) == [["me", "secret"]]


async def test_policies_see_the_caller_and_the_request() -> None:
    async with guarded_stack() as stack:
        query = "{ me { vipNote } }"
        assert _denied((await stack.post(query, bearer=token())).json()) == [["me", "vipNote"]]
        by_role = (await stack.post(query, bearer=token(roles=["VIP"]))).json()
        assert by_role == {"data": {"me": {"vipNote": "v1"}}}
        by_header = await stack.http.post("/graphql", json={"query": query}, headers={"x-vip-pass": "yes"})
        assert by_header.json() == {"data": {"me": {"vipNote": "v1"}}}


async def test_reject_mode_refuses_the_whole_request_before_any_fetch() -> None:
    async with guarded_stack(authorization_mode="reject") as stack:
        response = await stack.post("{ me { name email } }")
        assert response.status_code == 403
        assert _denied(response.json()) == [["me", "email"]]
        assert "data" not in response.json()
        assert stack.calls("accounts") == stack.calls("private") == []
        allowed = await stack.post("{ me { name email } }", bearer=token())
        assert allowed.json() == {"data": {"me": {"name": "Ada", "email": "1@example.test"}}}


async def test_bad_token_is_refused_not_downgraded() -> None:
    async with guarded_stack() as stack:
        response = await stack.post("{ me { email } }", bearer=token() + "x")
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _events(stack: Stack, *, bearer: str | None) -> list[dict[str, Any]]:
    client = await WsClient.open(stack.ws_url)
    try:
        assert (await client.init({"authorization": f"Bearer {bearer}"} if bearer else {}))["type"] == "connection_ack"
        await client.subscribe("1", "subscription { userJoined { name email } }")
        results = []
        while (message := await client.receive_skipping("ping", "pong"))["type"] == "next":
            results.append(message["payload"])
        assert message == {"type": "complete", "id": "1"}
        return results
    finally:
        await client.close()


async def test_subscriptions_are_authorized_too() -> None:
    async with guarded_stack() as stack:
        anonymous = await _events(stack, bearer=None)
        assert [r["data"] for r in anonymous] == [{"userJoined": {"name": "joiner 1", "email": None}},
                                                 {"userJoined": {"name": "joiner 2", "email": None}}]
        assert all(_denied(r) == [["userJoined", "email"]] for r in anonymous)
        assert stack.calls("private") == []
        signed_in = await _events(stack, bearer=token())
        assert [r for r in signed_in] == [{"data": {"userJoined": {"name": "joiner 1", "email": "1@example.test"}}},
                                          {"data": {"userJoined": {"name": "joiner 2", "email": "2@example.test"}}}]
    async with guarded_stack(authorization_mode="reject") as stack:
        refused = await _events(stack, bearer=None)
        assert len(refused) == 1 and "data" not in refused[0]
        assert _denied(refused[0]) == [["userJoined", "email"]]
