"""A token revoked by logout stops working everywhere within a second, on the real Redis.

identity and social run for real on loopback, each with its own KV prefix on the same Redis;
social verifies identity's tokens through the JWKS and reads identity's revocations.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from shared.redis import create_kv
from shared.testing import redis_url
from tests.e2e._stack import (
    LOGIN,
    PASSWORD,
    REGISTER,
    identity_settings,
    memory_kv,
    serve,
    social_settings,
    start_social,
    stopping,
    wait_until,
)

pytestmark = pytest.mark.redis

ME = "{ me { id } }"
UNREAD = "{ unreadNotificationCount }"


async def _ask(http: httpx.AsyncClient, url: str, query: str, token: str) -> dict:
    response = await http.post(url, json={"query": query}, headers={"authorization": f"Bearer {token}"})
    return response.json()  # type: ignore[no-any-return]


def _refused(body: dict) -> bool:
    return [e["extensions"] for e in body.get("errors", [])] == [
        {"code": "UNAUTHENTICATED", "reason": "revoked"}]


async def test_logout_revokes_the_token_in_identity_and_in_social(tmp_path: Path) -> None:
    run = uuid.uuid4().hex
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        from subgraphs.identity.app import create_app as create_identity

        identity_kv = create_kv(redis_url(), prefix=f"tributary:test:revoke:{run}:identity:")
        identity = await serve(create_identity(identity_settings(tmp_path), kv=identity_kv))
        servers.append(identity)
        social = await start_social(
            servers, social_settings(tmp_path, identity=identity, redis_url=redis_url()),
            kv=create_kv(redis_url(), prefix=f"tributary:test:revoke:{run}:social:"),
            routes_kv=memory_kv(f"tributary:test:revoke:{run}:routes:"))

        async def call(query: str, variables: dict, token: str | None = None) -> dict:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            response = await http.post(identity.graphql, json={"query": query, "variables": variables},
                                       headers=headers)
            return response.json()  # type: ignore[no-any-return]

        registered = await call(REGISTER, {"input": {"handle": "rita_revoked", "password": PASSWORD}})
        user_id = registered["data"]["register"]["user"]["id"]
        login = {"input": {"login": "rita_revoked", "password": PASSWORD}}
        token = (await call(LOGIN, login))["data"]["login"]["accessToken"]
        other_device = (await call(LOGIN, login))["data"]["login"]["accessToken"]
        assert (await _ask(http, identity.graphql, ME, token)) == {"data": {"me": {"id": user_id}}}
        # Social has verified (and cached) the token before it is revoked.
        assert (await _ask(http, social.graphql, UNREAD, token)) == {"data": {"unreadNotificationCount": 0}}

        assert (await call("mutation { logout(allSessions: true) }", {}, token)) == {"data": {"logout": True}}

        assert _refused(await _ask(http, identity.graphql, ME, token))  # identity: at once
        await wait_until(lambda: _poll_refused(http, social.graphql, token), what="social refusing")
        assert _refused(await _ask(http, social.graphql, UNREAD, other_device))
        # Signing in again gives a token every service accepts.
        fresh = (await call(LOGIN, login))["data"]["login"]["accessToken"]
        assert (await _ask(http, identity.graphql, ME, fresh)) == {"data": {"me": {"id": user_id}}}
        assert (await _ask(http, social.graphql, UNREAD, fresh)) == {"data": {"unreadNotificationCount": 0}}


async def _poll_refused(http: httpx.AsyncClient, url: str, token: str) -> bool:
    return _refused(await _ask(http, url, UNREAD, token))
