"""Chat end to end: identity + social + a composed gateway, real WebSocket and HTTP clients.

A message sent by one user over HTTP reaches the other user's `messageAdded` subscription through
the gateway, with the sender's profile fields (owned by identity) resolved in the same payload; a
non-member is refused with FORBIDDEN; a client that goes away leaves no upstream subscription.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.auth import SigningKeys, TokenIssuer
from tests.e2e._stack import (
    MESSAGE_ADDED,
    OPEN_DIRECT,
    SEND,
    Api,
    Served,
    WsClient,
    listeners,
    memory_kv,
    register_and_login,
    social_settings,
    start_gateway,
    start_identity,
    start_social,
    supergraph_of,
    wait_until,
)


@dataclass
class Chat:
    """identity + social + a gateway composed from them, and a direct conversation of two users."""

    identity: Served
    social: Served
    gateway: Served
    kv: Any
    settings: Any
    api: Api
    alice: Any
    bob: Any
    conversation: str

    @property
    def upstream(self) -> Any:
        return self.gateway.app.state.realtime.upstream


async def start_chat(
    tmp_path: Path, servers: list[Served], http: httpx.AsyncClient, tag: str,
    *, alice: str = "Alice", bob: str = "Bob",
) -> Chat:
    identity = await start_identity(servers, tmp_path)
    prefix = f"tributary:test:e2e:{tag}:"
    kv = memory_kv(prefix)
    settings = social_settings(tmp_path, identity=identity,
                               kv_prefix=prefix)
    social = await start_social(servers, settings, kv=kv, routes_kv=memory_kv("tributary:test:e2e:routes:"))
    supergraph = await supergraph_of({"identity": identity.graphql, "social": social.graphql})
    gateway = await start_gateway(servers, supergraph, identity=identity)
    api = Api(http, gateway.graphql)
    a = await register_and_login(api, f"alice_{tag}", alice)
    b = await register_and_login(api, f"bob_{tag}", bob)
    # Bob follows Alice, so her DM is a conversation at once, not a message request.
    await api.data("mutation($u: ID!) { follow(userId: $u) { id } }", {"u": a.id}, token=b.token)
    opened = (await api.data(OPEN_DIRECT, {"u": b.id}, token=a.token))["openDirectConversation"]
    return Chat(identity=identity, social=social, gateway=gateway, kv=kv, settings=settings,
                api=api, alice=a, bob=b, conversation=opened["id"])


async def test_message_reaches_member_with_sender_profile_and_non_member_is_refused(
    tmp_path: Path, servers: list[Served], http: httpx.AsyncClient
) -> None:
    chat = await start_chat(tmp_path, servers, http, "e2e", alice='Alice Liddell', bob='Bob Builder')
    social = chat.social
    gateway = chat.gateway
    kv = chat.kv
    upstream = chat.upstream
    api = chat.api
    alice = chat.alice
    bob = chat.bob
    conversation = chat.conversation
    carol = await register_and_login(api, "carol_e2e", "Carol Danvers")

    # C, not a member, is refused with FORBIDDEN (and nothing stays open for her).
    outsider = await WsClient.open(gateway.ws)
    try:
        assert (await outsider.init(carol.token))["type"] == "connection_ack"
        await outsider.subscribe("c1", MESSAGE_ADDED, {"c": conversation})
        refused = await outsider.receive()
        assert refused["type"] == "error" and refused["id"] == "c1", refused
        codes = [e.get("extensions", {}).get("code") for e in refused["payload"]]
        assert "FORBIDDEN" in codes, refused
    finally:
        await outsider.close()

    # Without a token: the gateway accepts the connection, social refuses the subscription.
    anonymous = await WsClient.open(gateway.ws)
    try:
        await anonymous.send({"type": "connection_init"})
        assert (await anonymous.receive())["type"] == "connection_ack"
        await anonymous.subscribe("x", MESSAGE_ADDED, {"c": conversation})
        refused = await anonymous.receive()
        assert refused["type"] == "error" and refused["id"] == "x", refused
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["UNAUTHENTICATED"], refused
    finally:
        await anonymous.close()

    # A token identity did not sign is refused at connection_init.
    forged = await WsClient.open(gateway.ws)
    try:
        await forged.send({"type": "connection_init", "payload": {"authorization": f"Bearer {bob.token[:-4]}AAAA"}})
        code, reason = await forged.closed()
        # 4403 is what the protocol recommends for a refused connection_init; 4401 also says "unauthorised".
        assert code in (4401, 4403) and "token" in (reason or "").lower(), (code, reason)
    finally:
        await forged.close()

    # B subscribes through the gateway; the subscription is live once social listens on the channel.
    subscriber = await WsClient.open(gateway.ws)
    try:
        assert (await subscriber.init(bob.token))["type"] == "connection_ack"
        await subscriber.subscribe("m1", MESSAGE_ADDED, {"c": conversation})
        await wait_until(lambda: listeners(kv, conversation), what="social to listen on the conversation")
        assert upstream.open_count == 1 and social.websockets == 1

        sent = (await api.data(SEND, {"c": conversation, "t": "hello Bob"}, token=alice.token))["sendMessage"]
        assert sent["sender"] == {"id": alice.id, "handle": alice.handle}

        event = await subscriber.receive()
        assert event["type"] == "next" and event["id"] == "m1", event
        assert "errors" not in event["payload"], event
        assert event["payload"]["data"]["messageAdded"] == {
            "id": sent["id"],
            "text": "hello Bob",
            "conversationId": conversation,
            "sender": {"id": alice.id, "handle": "alice_e2e", "displayName": "Alice Liddell"},
        }

        # Bob's own reply reaches his subscription too, with his profile.
        await api.data(SEND, {"c": conversation, "t": "hi Alice"}, token=bob.token)
        reply = await subscriber.receive()
        assert reply["payload"]["data"]["messageAdded"]["sender"] == {
            "id": bob.id, "handle": "bob_e2e", "displayName": "Bob Builder"}
        assert reply["payload"]["data"]["messageAdded"]["text"] == "hi Alice"
    finally:
        await subscriber.close()

    # The client went away: the gateway closes its upstream subscription and social stops listening.
    await wait_until(lambda: upstream.open_count == 0, what="the upstream subscription to close")
    await wait_until(lambda: _none(listeners(kv, conversation)), what="social to stop listening")
    await wait_until(lambda: social.websockets == 0, what="the upstream socket to close at social")


async def test_client_completing_one_subscription_closes_its_upstream(
    tmp_path: Path, servers: list[Served], http: httpx.AsyncClient
) -> None:
    """`complete` from a client that stays connected also releases the upstream subscription."""
    chat = await start_chat(tmp_path, servers, http, "complete", alice='Alice', bob='Bob')
    gateway = chat.gateway
    kv = chat.kv
    upstream = chat.upstream
    api = chat.api
    alice = chat.alice
    bob = chat.bob
    conversation = chat.conversation

    client = await WsClient.open(gateway.ws)
    try:
        assert (await client.init(bob.token))["type"] == "connection_ack"
        await client.subscribe("m1", MESSAGE_ADDED, {"c": conversation})
        await wait_until(lambda: listeners(kv, conversation), what="social to listen")
        await client.send({"id": "m1", "type": "complete"})
        await wait_until(lambda: upstream.open_count == 0, what="the upstream subscription to close")
        await wait_until(lambda: _none(listeners(kv, conversation)), what="social to stop listening")

        # The connection still works: a new subscription on it receives the next message.
        await client.subscribe("m2", MESSAGE_ADDED, {"c": conversation})
        await wait_until(lambda: listeners(kv, conversation), what="social to listen again")
        await api.data(SEND, {"c": conversation, "t": "again"}, token=alice.token)
        event = await client.receive()
        assert event["id"] == "m2" and event["payload"]["data"]["messageAdded"]["text"] == "again", event
    finally:
        await client.close()


async def _none(count: Awaitable[int]) -> bool:
    return await count == 0


async def test_social_going_away_ends_the_subscription_with_an_error(
    tmp_path: Path, servers: list[Served], http: httpx.AsyncClient
) -> None:
    """A subgraph that stops ends the client's subscription with an error, not silence."""
    chat = await start_chat(tmp_path, servers, http, "away", alice='Alice', bob='Bob')
    social = chat.social
    gateway = chat.gateway
    kv = chat.kv
    upstream = chat.upstream
    bob = chat.bob
    conversation = chat.conversation

    client = await WsClient.open(gateway.ws)
    try:
        assert (await client.init(bob.token))["type"] == "connection_ack"
        await client.subscribe("m1", MESSAGE_ADDED, {"c": conversation})
        await wait_until(lambda: listeners(kv, conversation), what="social to listen")
        await social.stop()
        ended = await client.receive()
        assert ended["id"] == "m1", ended
        assert ended["type"] == "error", ended
        assert [e["extensions"] for e in ended["payload"]] == [
            {"code": "SUBGRAPH_FETCH_FAILED", "serviceName": "social"}], ended
        await wait_until(lambda: upstream.open_count == 0, what="the gateway to drop the upstream")
    finally:
        await client.close()


async def test_expired_token_ends_the_subscription(
    tmp_path: Path, servers: list[Served], http: httpx.AsyncClient
) -> None:
    """A token that expires while subscribed ends the subscription (identity's key, two-second life)."""
    chat = await start_chat(tmp_path, servers, http, "expiry", alice='Alice', bob='Bob')
    gateway = chat.gateway
    kv = chat.kv
    settings = chat.settings
    upstream = chat.upstream
    bob = chat.bob
    conversation = chat.conversation
    # Signed with identity's own key (the one its JWKS publishes), but living two seconds only
    # (`exp` is whole seconds: at least one second is left for the handshake).
    keys = SigningKeys.from_pem((tmp_path / "identity-signing-key.pem").read_bytes())
    short = TokenIssuer(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience, access_ttl=2)
    token = short.issue_access_token(user_id=bob.id, roles=["user"])

    client = await WsClient.open(gateway.ws)
    try:
        assert (await client.init(token))["type"] == "connection_ack"
        await client.subscribe("m1", MESSAGE_ADDED, {"c": conversation})
        await wait_until(lambda: listeners(kv, conversation), what="social to listen")
        ended = await client.receive()
        assert ended["type"] == "error" and ended["id"] == "m1", ended
        assert [e["extensions"]["code"] for e in ended["payload"]] == ["UNAUTHENTICATED"], ended
        code, reason = await client.closed()
        assert code == 4401 and "expired" in (reason or "").lower(), (code, reason)
        await wait_until(lambda: upstream.open_count == 0, what="the gateway to drop the upstream")
        await wait_until(lambda: _none(listeners(kv, conversation)), what="social to stop listening")
    finally:
        await client.close()
