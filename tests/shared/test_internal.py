"""Internal APIs on their own port: callers proven by key, allow-lists per route, coded errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from shared.auth import SigningKeys
from shared.errors import NotFoundError, ServiceUnavailableError
from shared.internal import (
    InternalClient,
    InternalRequest,
    InternalRoute,
    InternalServer,
    internal_app,
)
from shared.service_auth import ServiceIdentity, ServiceKeyring, public_key_text

MARKETS = ServiceIdentity(name="markets", keys=SigningKeys.generate())
SOCIAL = ServiceIdentity(name="social", keys=SigningKeys.generate())


async def _echo(request: InternalRequest) -> dict[str, Any]:
    if request.body.get("missing"):
        raise NotFoundError("nothing here", extensions={"ids": ["x"]})
    if request.body.get("crash"):
        raise RuntimeError("internal detail that must not leave the service")
    return {"caller": request.caller, "body": request.body}


@pytest.fixture
async def wallet_internal() -> AsyncIterator[str]:
    keyring = ServiceKeyring(owner="wallet", public_keys={
        "markets": public_key_text(MARKETS.keys), "social": public_key_text(SOCIAL.keys)})
    app = internal_app([InternalRoute(path="/internal/echo", handler=_echo,
                                      callers=frozenset({"markets"}))], keyring=keyring)
    server = InternalServer(app=app, host="127.0.0.1", port=0)
    url = await server.start()
    try:
        yield url
    finally:
        await server.stop()


async def test_an_allowed_service_is_answered_as_itself(wallet_internal: str) -> None:
    client = InternalClient(MARKETS, {"wallet": wallet_internal})
    try:
        answer = await client.call("wallet", "/internal/echo", {"n": 1})
    finally:
        await client.close()
    assert answer == {"caller": "markets", "body": {"n": 1}}


async def test_coded_errors_cross_the_wire_and_crashes_reveal_nothing(wallet_internal: str) -> None:
    client = InternalClient(MARKETS, {"wallet": wallet_internal})
    try:
        with pytest.raises(NotFoundError, match="nothing here") as caught:
            await client.call("wallet", "/internal/echo", {"missing": True})
        assert caught.value.extensions["ids"] == ["x"]
        with pytest.raises(ServiceUnavailableError, match="wallet service is unavailable"):
            await client.call("wallet", "/internal/echo", {"crash": True})
    finally:
        await client.close()


async def test_a_service_not_on_the_route_list_is_refused(wallet_internal: str) -> None:
    async with aiohttp.ClientSession() as http:
        token = SOCIAL.issue(audience="wallet")
        async with http.post(wallet_internal + "/internal/echo", json={},
                             headers={"x-service-token": token}) as response:
            assert response.status == 403
            assert (await response.json())["error"]["code"] == "FORBIDDEN"
        async with http.post(wallet_internal + "/internal/echo", json={}) as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "UNAUTHENTICATED"
        # markets' name with social's key: the key decides who is calling.
        forged = ServiceIdentity(name="markets", keys=SOCIAL.keys).issue(audience="wallet")
        async with http.post(wallet_internal + "/internal/echo", json={},
                             headers={"x-service-token": forged}) as response:
            assert response.status == 401
    # Through the client, a refused credential is the deployment's fault, not the user's.
    client = InternalClient(SOCIAL, {"wallet": wallet_internal})
    try:
        with pytest.raises(ServiceUnavailableError):
            await client.call("wallet", "/internal/echo", {})
    finally:
        await client.close()


async def test_bad_bodies_get_coded_errors(wallet_internal: str) -> None:
    async with aiohttp.ClientSession() as http:
        headers = {"x-service-token": MARKETS.issue(audience="wallet")}
        async with http.post(wallet_internal + "/internal/echo", data=b"[1, 2",
                             headers=headers) as response:
            assert response.status == 400
            assert (await response.json())["error"]["reason"] == "INVALID_JSON"
        async with http.post(wallet_internal + "/internal/echo", data=b"x" * 70_000,
                             headers=headers) as response:
            assert (await response.json())["error"]["reason"] == "TOO_LARGE"


async def test_an_unreachable_or_unknown_peer_fails_closed() -> None:
    client = InternalClient(MARKETS, {"wallet": "http://127.0.0.1:9"}, timeout=2)
    try:
        with pytest.raises(ServiceUnavailableError):
            await client.call("wallet", "/internal/echo", {})
        with pytest.raises(ServiceUnavailableError, match="not configured"):
            await client.call("identity", "/internal/users/lookup", {"ids": []})
    finally:
        await client.close()


async def test_a_busy_internal_port_names_the_setting() -> None:
    app = internal_app([InternalRoute(path="/internal/echo", handler=_echo,
                                      callers=frozenset({"markets"}))],
                       keyring=ServiceKeyring(owner="wallet", public_keys={}))
    first = InternalServer(app=app, host="127.0.0.1", port=0)
    url = await first.start()
    try:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(SystemExit, match="INTERNAL_PORT"):
            await InternalServer(app=app, host="127.0.0.1", port=port).start()
    finally:
        await first.stop()
