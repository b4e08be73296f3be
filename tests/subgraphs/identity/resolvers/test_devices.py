"""API keys that expire (refused by identity and by its internal verify route, which every
subgraph asks) and the device list: sessions listed, one revoked, all but this one revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from starlette.datastructures import Headers

from shared.errors import NotFoundError
from shared.internal import InternalRequest
from subgraphs.identity.internal import internal_routes
from subgraphs.identity.models import ApiKey

GOOD = "Correct-Horse-42"
CREATE_KEY = """mutation($d: Int) { createApiKey(name: "ci", scopes: ["read"], expiresInDays: $d) {
  secret apiKey { id expiresAt } } }"""
LOGIN = "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken refreshToken } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
SESSIONS = "{ mySessions { id signedInAt lastUsedAt expiresAt userAgent clientAddress current } }"
REVOKE = "mutation($id: ID!) { revokeSession(id: $id) }"
REVOKE_OTHERS = "mutation { revokeOtherSessions }"


def error_of(body):
    assert body["data"] is None, body
    return body["errors"][0]


async def verify_route(database, key: str):
    route = next(r for r in internal_routes(database=database) if r.path.endswith("verify"))
    return await route.handler(InternalRequest(caller="social", body={"key": key},
                                               path_params={}, headers=Headers()))


async def test_an_expired_api_key_is_refused_everywhere(api, database):
    token = (await api.register("alice"))["accessToken"]
    created = (await api(CREATE_KEY, {"d": 30}, token=token))["data"]["createApiKey"]
    expires = datetime.fromisoformat(created["apiKey"]["expiresAt"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    key = created["secret"]
    assert (await api("{ me { handle } }", api_key=key))["data"] == {"me": {"handle": "alice"}}
    answer = await verify_route(database, key)
    assert answer["caller"]["userId"] is not None
    async with database.engine.begin() as conn:
        await conn.execute(sa.update(ApiKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    refused = await api("{ me { handle } }", api_key=key, status=401)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    with pytest.raises(NotFoundError):
        await verify_route(database, key)
    listed = await api("{ apiKeys { id expiresAt } }", token=token)
    assert listed["data"]["apiKeys"][0]["expiresAt"] is not None


async def test_keys_without_expiry_and_bad_expiry(api, count_rows):
    token = (await api.register("alice"))["accessToken"]
    forever = (await api(CREATE_KEY, {"d": None}, token=token))["data"]["createApiKey"]
    assert forever["apiKey"]["expiresAt"] is None
    before = await count_rows()
    for days in (0, -1, 3651):
        error = error_of(await api(CREATE_KEY, {"d": days}, token=token))
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "expiresInDays",
                                       "reason": "OUT_OF_RANGE"}
    assert await count_rows() == before


async def sign_in_as(api, agent: str) -> dict:
    body = await api(LOGIN, {"l": "alice", "p": GOOD}, headers={"user-agent": agent})
    assert "errors" not in body, body
    return body["data"]["login"]


async def test_sessions_listed_revoked_one_and_all_but_this_one(api):
    await api.register("alice")
    phone = await sign_in_as(api, "Phone/1.0")
    laptop = await sign_in_as(api, "Laptop/2.0")
    tablet = await sign_in_as(api, "Tablet/3.0")
    listed = (await api(SESSIONS, token=laptop["accessToken"]))["data"]["mySessions"]
    # register's own session, then three devices.
    assert len(listed) == 4
    by_agent = {s["userAgent"]: s for s in listed}
    assert {a for a in by_agent if a} >= {"Phone/1.0", "Laptop/2.0", "Tablet/3.0"}
    assert [s["userAgent"] for s in listed if s["current"]] == ["Laptop/2.0"]
    assert all(s["clientAddress"] for s in listed)
    # A refresh keeps the session (same id) and moves its last use.
    phone = (await api(REFRESH, {"t": phone["refreshToken"]},
                       headers={"user-agent": "Phone/1.1"}))["data"]["refreshToken"]
    again = (await api(SESSIONS, token=laptop["accessToken"]))["data"]["mySessions"]
    refreshed = next(s for s in again if s["userAgent"] == "Phone/1.1")
    assert refreshed["id"] == by_agent["Phone/1.0"]["id"]
    assert refreshed["signedInAt"] == by_agent["Phone/1.0"]["signedInAt"]
    assert refreshed["lastUsedAt"] >= by_agent["Phone/1.0"]["lastUsedAt"]
    assert len(again) == 4
    # Revoke the phone from the laptop.
    assert (await api(REVOKE, {"id": refreshed["id"]}, token=laptop["accessToken"]))["data"] == {
        "revokeSession": True}
    gone = error_of(await api(REFRESH, {"t": phone["refreshToken"]}))
    assert gone["extensions"]["code"] == "UNAUTHENTICATED"
    # Access tokens were revoked too: the laptop refreshes and carries on.
    assert (await api(SESSIONS, token=laptop["accessToken"], status=401))["errors"][0][
        "extensions"]["reason"] == "revoked"
    laptop = (await api(REFRESH, {"t": laptop["refreshToken"]},
                        headers={"user-agent": "Laptop/2.0"}))["data"]["refreshToken"]
    remaining = (await api(SESSIONS, token=laptop["accessToken"]))["data"]["mySessions"]
    assert len(remaining) == 3
    # All but this one.
    assert (await api(REVOKE_OTHERS, token=laptop["accessToken"]))["data"] == {
        "revokeOtherSessions": 2}
    assert error_of(await api(REFRESH, {"t": tablet["refreshToken"]}))["extensions"]["code"] == (
        "UNAUTHENTICATED")
    laptop = (await api(REFRESH, {"t": laptop["refreshToken"]},
                        headers={"user-agent": "Laptop/2.0"}))["data"]["refreshToken"]
    only = (await api(SESSIONS, token=laptop["accessToken"]))["data"]["mySessions"]
    assert [(s["userAgent"], s["current"]) for s in only] == [("Laptop/2.0", True)]


async def test_another_accounts_session_is_not_found_and_changes_nothing(api):
    alice = await api.register("alice")
    bob = await api.register("bob")
    alices = (await api(SESSIONS, token=alice["accessToken"]))["data"]["mySessions"][0]["id"]
    for target in (alices, "no-such-session", "x" * 500):
        error = error_of(await api(REVOKE, {"id": target}, token=bob["accessToken"]))
        assert error["extensions"]["code"] == "NOT_FOUND"
    # Neither account lost anything: both tokens still work, alice's session is live.
    assert len((await api(SESSIONS, token=alice["accessToken"]))["data"]["mySessions"]) == 1
    key = (await api(CREATE_KEY, {"d": 1}, token=bob["accessToken"]))["data"]["createApiKey"]
    assert error_of(await api(SESSIONS, api_key=key["secret"]))["extensions"]["code"] == "FORBIDDEN"
