"""End-to-end helpers: identity, social and gateways served by uvicorn on ephemeral ports.

Everything runs in the test's event loop with the real apps (no stand-ins): identity issues EdDSA
tokens, social verifies them through identity's JWKS, and gateways are built from a supergraph
composed in Python from the SDLs the running subgraphs report.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from gateway.compose import SubgraphSource, compose, fetch_sdl
from gateway.config import GatewaySettings
from gateway.server import create_app as create_gateway
from shared.auth import SigningKeys
from shared.db import Database
from shared.redis import KeyValue, MemoryKeyValue, MemoryStore, create_kv
from shared.service_auth import ServiceIdentity, public_key_text
from shared.testing import Served, start_server
from subgraphs.content.app import create_app as create_content
from subgraphs.content.config import ContentSettings
from subgraphs.identity.app import create_app as create_identity
from subgraphs.identity.config import IdentitySettings
from subgraphs.markets.app import create_app as create_markets
from subgraphs.markets.config import MarketsSettings
from subgraphs.social.app import create_app as create_social
from subgraphs.social.config import SocialSettings
from subgraphs.social.services.realtime import conversation_channel
from subgraphs.wallet.app import create_app as create_wallet
from subgraphs.wallet.config import WalletSettings
from tests.gateway.subscriptions._clients import WsClient as TransportWsClient

TIMEOUT = 5.0
JWKS_PATH = "/.well-known/jwks.json"
PASSWORD = "correct horse battery staple 42"
# Each service its own key; every service trusts the others' public halves.
SERVICE_KEYS = {name: SigningKeys.generate()
                for name in ("identity", "social", "wallet", "content", "markets", "moderation",
                             "gateway")}
PUBLIC_KEYS = {name: public_key_text(keys) for name, keys in SERVICE_KEYS.items()}


def service_keys(name: str) -> dict[str, Any]:
    return {"service_key": SERVICE_KEYS[name].to_pem().decode(),
            "service_public_keys": dict(PUBLIC_KEYS)}

CREATE_KEY_QUERY = """mutation($scopes: [String!]!) {
  createApiKey(name: "bot", scopes: $scopes) { secret }
}"""
REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id handle } } }
"""
LOGIN = """
mutation($input: LoginInput!) { login(input: $input) { accessToken user { id handle displayName } } }
"""
OPEN_DIRECT = "mutation($u: ID!) { openDirectConversation(userId: $u) { id kind } }"
SEND = """
mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id text sender { id handle } } }
"""
MESSAGE_ADDED = """
subscription($c: ID!) {
  messageAdded(conversationId: $c) { id text conversationId sender { id handle displayName } }
}
"""


@asynccontextmanager
async def stopping() -> AsyncIterator[list[Served]]:
    """A list to start servers into; on exit they stop in reverse order (gateways first)."""
    started: list[Served] = []
    try:
        yield started
    finally:
        for served in reversed(started):
            await served.stop()


async def serve(app: Any) -> Served:
    """Serve `app` on a free port (lifespan included) until `Served.stop`."""
    return await start_server(app, lifespan="on", ws="websockets-sansio")


def identity_settings(tmp_path: Path, **overrides: Any) -> IdentitySettings:
    values: dict[str, Any] = {
        "environment": "test",
        "port": 0,
        "database_url": f"sqlite+aiosqlite:///{(tmp_path / 'identity.db').as_posix()}",
        "data_dir": str(tmp_path),
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
        "argon2_parallelism": 1,
        "log_level": "WARNING",
        **service_keys("identity"),
    }
    values.update(overrides)
    return IdentitySettings(**values)


def social_settings(tmp_path: Path, *, identity: Served, **overrides: Any) -> SocialSettings:
    """Social settings that verify `identity`'s tokens and check ids with it."""
    jwks_url = identity.base + JWKS_PATH
    values: dict[str, Any] = {
        **service_keys("social"),
        "peers": {"identity": identity.app.state.internal_url},
        "environment": "test",
        "port": 0,
        "database_url": f"sqlite+aiosqlite:///{(tmp_path / 'social.db').as_posix()}",
        "data_dir": str(tmp_path),
        "jwks_url": jwks_url,
        "kv_prefix": f"tributary:test:e2e:{uuid.uuid4().hex}:social:",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return SocialSettings(**values)


def wallet_settings(tmp_path: Path, *, identity: Served, social: Served | None = None,
                    **overrides: Any) -> WalletSettings:
    """Wallet settings that verify `identity`'s tokens and check ids with it (and `social`)."""
    peers = {"identity": identity.app.state.internal_url}
    if social is not None:
        peers["social"] = social.app.state.internal_url
    values: dict[str, Any] = {
        **service_keys("wallet"),
        "peers": peers,
        "environment": "test",
        "port": 0,
        "data_dir": str(tmp_path),
        "jwks_url": identity.base + JWKS_PATH,
        "encryption_keys": f"e2e:{base64.b64encode(os.urandom(32)).decode()}",
        "kv_prefix": f"tributary:test:e2e:{uuid.uuid4().hex}:wallet:",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return WalletSettings(**values)


def content_settings(tmp_path: Path, *, identity: Served, **overrides: Any) -> ContentSettings:
    """Content settings that verify `identity`'s tokens and ask it about API keys."""
    values: dict[str, Any] = {
        **service_keys("content"),
        "peers": {"identity": identity.app.state.internal_url},
        "environment": "test",
        "port": 0,
        "database_url": f"sqlite+aiosqlite:///{(tmp_path / 'content.db').as_posix()}",
        "data_dir": str(tmp_path),
        "storage_dir": str(tmp_path / "content"),
        "jwks_url": identity.base + JWKS_PATH,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return ContentSettings(**values)


async def start_content(servers: list[Served], settings: ContentSettings) -> Served:
    app = create_content(settings, kv=memory_kv("tributary:test:e2e:content:"),
                         routes_kv=memory_kv("tributary:test:e2e:content-routes:"))
    servers.append(served := await serve(app))
    return served


def markets_settings(tmp_path: Path, *, identity: Served, wallet: Served,
                     **overrides: Any) -> MarketsSettings:
    """Markets settings that verify `identity`'s tokens and hold money in `wallet`'s escrow."""
    values: dict[str, Any] = {
        **service_keys("markets"),
        "peers": {"identity": identity.app.state.internal_url,
                  "wallet": wallet.app.state.internal_url},
        "environment": "test",
        "port": 0,
        "database_url": f"sqlite+aiosqlite:///{(tmp_path / 'markets.db').as_posix()}",
        "data_dir": str(tmp_path),
        "jwks_url": identity.base + JWKS_PATH,
        "kv_prefix": f"tributary:test:e2e:{uuid.uuid4().hex}:markets:",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return MarketsSettings(**values)


async def start_markets(servers: list[Served], settings: MarketsSettings, *,
                        database: Database | None = None) -> Served:
    """Markets with an in-memory KV; its stale-bounty job is left to the test to run."""
    app = create_markets(settings, database=database, kv=memory_kv(settings.kv_prefix),
                         sweep=False)
    servers.append(served := await serve(app))
    return served


async def start_identity(servers: list[Served], tmp_path: Path) -> Served:
    # An in-memory KV of its own: rate-limit counters of other tests never leak in.
    kv = create_kv(None, prefix="tributary:test:e2e:identity:", store=MemoryStore())
    servers.append(served := await serve(create_identity(identity_settings(tmp_path), kv=kv)))
    return served


async def start_social(servers: list[Served], settings: SocialSettings, *, kv: KeyValue | None,
                       routes_kv: KeyValue, database: Database | None = None) -> Served:
    app = create_social(settings, database=database, kv=kv, routes_kv=routes_kv)
    servers.append(served := await serve(app))
    return served


async def start_wallet(servers: list[Served], settings: WalletSettings, *, database: Database,
                       wrap: Any = None) -> Served:
    """The wallet on `database` (already migrated by the caller's fixture), with in-memory KVs;
    `wrap`, an ASGI wrapper with an empty `app`, is served around it (e.g. to count requests)."""
    app = create_wallet(settings, database=database, kv=memory_kv(settings.kv_prefix),
                        routes_kv=memory_kv("tributary:test:e2e:routes:"))
    if wrap is not None:
        wrap.app, app = app, wrap
    servers.append(served := await serve(app))
    return served


async def supergraph_of(subgraphs: dict[str, str]) -> str:
    """Compose the running subgraphs (name -> /graphql URL) from the SDLs they report."""
    gateway = ServiceIdentity(name="gateway", keys=SERVICE_KEYS["gateway"])
    sources = [SubgraphSource(name, url, await fetch_sdl(url, headers={
        "x-service-token": gateway.issue(audience=name)})) for name, url in subgraphs.items()]
    result = compose(sources)
    assert result.ok, [str(e) for e in result.errors]
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


async def start_gateway(servers: list[Served], supergraph: str, *, identity: Served,
                        subgraph_urls: dict[str, str] | None = None) -> Served:
    settings = GatewaySettings(
        service_key=SERVICE_KEYS["gateway"].to_pem().decode(),
        jwks_url=identity.base + JWKS_PATH,
        identity_internal_url=identity.app.state.internal_url,
        subgraph_urls=subgraph_urls or {},
        subgraph_timeout_seconds=5.0,
        subscription_keepalive_seconds=60.0,
    )
    servers.append(served := await serve(create_gateway(settings, supergraph_sdl=supergraph)))
    return served


def memory_kv(prefix: str) -> KeyValue:
    return create_kv(None, prefix=prefix, store=MemoryStore())


# -- clients ---------------------------------------------------------------------------------------


class Api:
    """GraphQL over HTTP to one gateway."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.url = url

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, *,
                       token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(self.url, json={"query": query, "variables": variables or {}},
                                          headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def data(self, query: str, variables: dict[str, Any] | None = None, *,
                   token: str | None = None) -> dict[str, Any]:
        body = await self(query, variables, token=token)
        assert not body.get("errors"), body
        return body["data"]  # type: ignore[no-any-return]


@dataclass
class User:
    id: str
    handle: str
    display_name: str
    token: str


async def register_and_login(api: Api, handle: str, display_name: str) -> User:
    """Register through the gateway, then sign in (the token used afterwards is the login's)."""
    registered = await api.data(REGISTER, {"input": {"handle": handle, "password": PASSWORD,
                                                     "displayName": display_name}})
    assert registered["register"]["user"]["handle"] == handle
    logged = (await api.data(LOGIN, {"input": {"login": handle, "password": PASSWORD}}))["login"]
    assert logged["user"]["id"] == registered["register"]["user"]["id"]
    return User(id=logged["user"]["id"], handle=handle, display_name=logged["user"]["displayName"],
                token=logged["accessToken"])


class WsClient(TransportWsClient):
    """The subscription tests' graphql-transport-ws client, answering the server's pings and
    authenticating in `connection_init` with a bearer token."""

    async def receive(self) -> dict[str, Any]:
        while True:
            message = await super().receive()
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            if message.get("type") != "pong":
                return message

    async def init(self, token: str) -> dict[str, Any]:  # type: ignore[override]
        return await super().init({"authorization": f"Bearer {token}"})

    @property
    def is_closed(self) -> bool:
        try:
            return self.connection.state.name == "CLOSED"
        except AttributeError:  # pragma: no cover - older websockets
            return False


async def subscriber_count(kv: KeyValue, channel: str) -> int:
    """Listeners on a social pub/sub channel (in-memory store or real Redis)."""
    name = kv.prefix + channel
    if isinstance(kv, MemoryKeyValue):
        return len(kv.store.subscribers.get(name, ()))
    [(_, count)] = await kv.client.pubsub_numsub(name)  # type: ignore[attr-defined]
    return int(count)


async def wait_until(predicate: Any, *, timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll an (async or sync) predicate until it holds; fail naming `what` after `timeout`."""
    async def loop() -> None:
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(loop(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def listeners(kv: KeyValue, conversation_id: str) -> int:
    return await subscriber_count(kv, conversation_channel(conversation_id))


__all__ = [
    "LOGIN", "MESSAGE_ADDED", "OPEN_DIRECT", "REGISTER", "SEND", "Api", "ConnectionClosed", "Served",
    "User", "WsClient", "listeners", "markets_settings", "memory_kv", "register_and_login", "serve", "social_settings",
    "start_gateway", "start_identity", "start_markets", "start_social", "start_wallet", "stopping", "subscriber_count",
    "supergraph_of", "wait_until", "wallet_settings",
]
