"""The social app served by uvicorn: subscriptions over graphql-transport-ws with real clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from shared.auth import SigningKeys, TokenIssuer, TokenVerifier
from shared.db import create_database
from shared.redis import MemoryStore, create_kv
from shared.testing import DATABASE_KINDS, redis_url, serve_app
from subgraphs.social.app import create_app
from subgraphs.social.config import SocialSettings
from subgraphs.social.services import realtime
from tests._peers import peer_stack

from ._client import WsClient, gql, wait_subscribed, wait_unsubscribed
from .conftest import make_database

MESSAGE_ADDED = """
subscription($c: ID!) { messageAdded(conversationId: $c) { id text conversationId sender { id } } }
"""
SEND = """
mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id sender { id } } }
"""
CREATE = """
mutation($m: [ID!]!) { createConversation(memberIds: $m, title: "t") { id kind } }
"""

# Everyone these tests name (identity knows them; the peers are real services on loopback).
PEOPLE = ("alice", "bob", "carol", "mallory", "watcher")


def token(issuer: TokenIssuer, user_id: str) -> str:
    return issuer.issue_access_token(user_id=user_id, roles=["user"])


@asynccontextmanager
async def social_server(database, kv, issuer: TokenIssuer, *, routes_kv=None, **overrides) -> AsyncIterator:
    """Serve a social app; yields its base URL, or (URL, app) when `routes_kv` is given."""
    stack = peer_stack()
    stack.add_users(*PEOPLE)
    settings = SocialSettings(environment="test", port=0, migrate_on_startup=False,
                              **{**stack.settings_for("social"), **overrides})
    routes = routes_kv or create_kv(None, prefix=f"test:routes:{uuid.uuid4().hex}:", store=MemoryStore())
    app = create_app(settings, verifier=TokenVerifier.for_issuer(issuer), database=database, kv=kv,
                     routes_kv=routes)
    async with serve_app(app) as base_url:
        yield (base_url, app) if routes_kv is not None else base_url


async def _served(kind: str, tmp_path: Path, issuer: TokenIssuer) -> AsyncIterator[tuple[str, object]]:
    database = await make_database(kind, tmp_path)
    kv = create_kv(None, prefix=f"test:social:{uuid.uuid4().hex}:", store=MemoryStore())
    async with social_server(database, kv, issuer) as base_url:
        yield base_url, kv


@pytest.fixture(params=DATABASE_KINDS)
async def served(request, tmp_path: Path, issuer: TokenIssuer) -> AsyncIterator[tuple[str, object]]:
    """The app on each database: for tests whose outcome depends on stored rows."""
    async for value in _served(request.param, tmp_path, issuer):
        yield value


@pytest.fixture
async def served_sqlite(tmp_path: Path, issuer: TokenIssuer) -> AsyncIterator[tuple[str, object]]:
    """The app on the embedded default only: for KV-driven streams (typing, presence, auth)."""
    async for value in _served("sqlite", tmp_path, issuer):
        yield value


async def _conversation(base_url: str, issuer: TokenIssuer, creator: str, *members: str) -> str:
    """A group whose members join at once: each follows the creator first (consent rule)."""
    for member in members:
        followed = await gql(base_url, "mutation($u: ID!) { follow(userId: $u) { id } }", {"u": creator},
                             token=token(issuer, member))
        assert "errors" not in followed, followed
    result = await gql(base_url, CREATE, {"m": list(members)}, token=token(issuer, creator))
    assert "errors" not in result, result
    return result["data"]["createConversation"]["id"]


async def test_message_from_one_member_reaches_the_other_members_subscription(served, issuer):
    base_url, kv = served
    conversation_id = await _conversation(base_url, issuer, "alice", "bob")
    bob = await WsClient.connect(base_url, token=token(issuer, "bob"))
    try:
        await bob.acknowledged()
        await bob.subscribe("1", MESSAGE_ADDED, {"c": conversation_id})
        await wait_subscribed(kv, realtime.conversation_channel(conversation_id))
        sent = await gql(base_url, SEND, {"c": conversation_id, "t": "hi bob"}, token=token(issuer, "alice"))
        assert "errors" not in sent, sent
        message = await bob.receive()
        assert message == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"messageAdded": {
                "id": sent["data"]["sendMessage"]["id"], "text": "hi bob",
                "conversationId": conversation_id, "sender": {"id": "alice"},
            }}},
        }
        await bob.send({"id": "1", "type": "complete"})
        # Completing the operation releases the channel on this replica.
        await wait_unsubscribed(kv, realtime.conversation_channel(conversation_id))
        await bob.subscribe("2", MESSAGE_ADDED, {"c": conversation_id})
        await wait_subscribed(kv, realtime.conversation_channel(conversation_id))
    finally:
        await bob.close()
    # A client that goes away leaves no subscription behind.
    await wait_unsubscribed(kv, realtime.conversation_channel(conversation_id))


async def test_non_member_subscription_is_refused_with_forbidden(served, issuer):
    base_url, _kv = served
    conversation_id = await _conversation(base_url, issuer, "alice", "bob")
    mallory = await WsClient.connect(base_url, token=token(issuer, "mallory"))
    try:
        await mallory.acknowledged()
        await mallory.subscribe("x", MESSAGE_ADDED, {"c": conversation_id})
        refused = await mallory.receive()
        assert refused["type"] == "error" and refused["id"] == "x"
        assert [e.get("extensions", {}).get("code") for e in refused["payload"]] == ["FORBIDDEN"], refused
    finally:
        await mallory.close()
    # The same holds for plain reads and writes over HTTP.
    read = await gql(base_url, "query($c: ID!) { conversation(id: $c) { id } }", {"c": conversation_id},
                     token=token(issuer, "mallory"))
    assert read["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    write = await gql(base_url, SEND, {"c": conversation_id, "t": "let me in"}, token=token(issuer, "mallory"))
    assert write["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_anonymous_subscription_is_unauthenticated_and_bad_token_is_rejected(served_sqlite, issuer):
    base_url, _kv = served_sqlite
    anonymous = await WsClient.connect(base_url, token=None)
    try:
        await anonymous.acknowledged()
        await anonymous.subscribe("a", "subscription { notificationAdded { id } }")
        refused = await anonymous.receive()
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        await anonymous.close()
    other = TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")
    forged = await WsClient.connect(base_url, token=token(other, "alice"))
    try:
        import websockets

        with pytest.raises(websockets.ConnectionClosed) as closed:
            await forged.receive()
        assert closed.value.rcvd.code == 4403
    finally:
        await forged.close()


async def test_typing_and_notifications_stream_to_the_other_member(served_sqlite, issuer):
    base_url, kv = served_sqlite
    conversation_id = await _conversation(base_url, issuer, "alice", "bob")
    bob = await WsClient.connect(base_url, token=token(issuer, "bob"))
    try:
        await bob.acknowledged()
        await bob.subscribe("t", "subscription($c: ID!) { typing(conversationId: $c) { isTyping expiresIn user { id } } }",
                            {"c": conversation_id})
        await bob.subscribe("n", "subscription { notificationAdded { kind actor { id } data } }")
        await wait_subscribed(kv, realtime.typing_channel(conversation_id))
        await wait_subscribed(kv, realtime.notification_channel("bob"))
        typed = await gql(base_url, "mutation($c: ID!) { setTyping(conversationId: $c) { isTyping } }",
                          {"c": conversation_id}, token=token(issuer, "alice"))
        assert typed == {"data": {"setTyping": {"isTyping": True}}}
        assert await bob.receive() == {"id": "t", "type": "next", "payload": {"data": {"typing": {
            "isTyping": True, "expiresIn": SocialSettings().typing_ttl, "user": {"id": "alice"}}}}}
        await gql(base_url, "mutation { follow(userId: \"bob\") { followersCount } }", token=token(issuer, "alice"))
        assert await bob.receive() == {"id": "n", "type": "next", "payload": {"data": {"notificationAdded": {
            "kind": "FOLLOW", "actor": {"id": "alice"}, "data": {}}}}}
    finally:
        await bob.close()


async def test_presence_changes_stream_to_watchers(served_sqlite, issuer):
    base_url, kv = served_sqlite
    watcher = await WsClient.connect(base_url, token=token(issuer, "watcher"))
    try:
        await watcher.acknowledged()
        await watcher.subscribe("p", "subscription { presenceChanged(userIds: [\"alice\"]) { status user { id } } }")
        await wait_subscribed(kv, realtime.presence_channel("alice"))
        for status in ("ONLINE", "ONLINE", "AWAY", "OFFLINE"):
            await gql(base_url, "mutation($s: PresenceStatus!) { setPresence(status: $s) { status } }",
                      {"s": status}, token=token(issuer, "alice"))
        seen = [(await watcher.receive())["payload"]["data"]["presenceChanged"]["status"] for _ in range(3)]
        assert seen == ["ONLINE", "AWAY", "OFFLINE"]  # the renewal is not a change
    finally:
        await watcher.close()


async def test_leaving_a_group_ends_the_members_message_stream(served, issuer):
    base_url, kv = served
    conversation_id = await _conversation(base_url, issuer, "alice", "bob", "carol")
    bob = await WsClient.connect(base_url, token=token(issuer, "bob"))
    try:
        await bob.acknowledged()
        await bob.subscribe("1", MESSAGE_ADDED, {"c": conversation_id})
        await wait_subscribed(kv, realtime.conversation_channel(conversation_id))
        left = await gql(base_url, "mutation($c: ID!) { leaveConversation(conversationId: $c) }",
                         {"c": conversation_id}, token=token(issuer, "bob"))
        assert left == {"data": {"leaveConversation": True}}
        assert await bob.receive() == {"id": "1", "type": "complete"}
        again = await gql(base_url, SEND, {"c": conversation_id, "t": "still here?"}, token=token(issuer, "bob"))
        assert again["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        await bob.close()


async def test_presence_lapses_to_offline_when_heartbeats_stop(tmp_path, issuer):
    database = await make_database("sqlite", tmp_path)
    kv = create_kv(None, prefix=f"test:social:{uuid.uuid4().hex}:", store=MemoryStore())
    async with social_server(database, kv, issuer, presence_ttl=1) as base_url:
        watcher = await WsClient.connect(base_url, token=token(issuer, "watcher"))
        try:
            await watcher.acknowledged()
            await watcher.subscribe("p", "subscription { presenceChanged(userIds: [\"alice\"]) { status } }")
            await wait_subscribed(kv, realtime.presence_channel("alice"))
            await gql(base_url, "mutation { setPresence(status: ONLINE) { status } }", token=token(issuer, "alice"))
            # No further heartbeat: after presenceTtl the stream reports the lapse by itself.
            seen = [(await watcher.receive())["payload"]["data"]["presenceChanged"]["status"] for _ in range(2)]
            assert seen == ["ONLINE", "OFFLINE"]
            current = await gql(base_url, '{ presence(userIds: ["alice"]) { status } }', token=token(issuer, "watcher"))
            assert current == {"data": {"presence": [{"status": "OFFLINE"}]}}
        finally:
            await watcher.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_message_crosses_replicas_through_redis(tmp_path, issuer):
    """Two app instances (two uvicorn servers) on one PostgreSQL database and the real Redis:
    a message sent through instance A reaches a subscriber connected to instance B."""
    prefix = f"test:social:{uuid.uuid4().hex}:"
    first = await make_database("postgresql", tmp_path)
    second = create_database(str(first.engine.url.render_as_string(hide_password=False)), pool_size=5)
    kv_a = create_kv(redis_url(), prefix=prefix)
    kv_b = create_kv(redis_url(), prefix=prefix)
    probe = create_kv(redis_url(), prefix=prefix)
    try:
        async with social_server(first, kv_a, issuer) as url_a, social_server(second, kv_b, issuer) as url_b:
            conversation_id = await _conversation(url_a, issuer, "alice", "bob")
            bob = await WsClient.connect(url_b, token=token(issuer, "bob"))
            try:
                await bob.acknowledged()
                await bob.subscribe("1", MESSAGE_ADDED, {"c": conversation_id})
                await wait_subscribed(probe, realtime.conversation_channel(conversation_id))
                sent = await gql(url_a, SEND, {"c": conversation_id, "t": "via A"}, token=token(issuer, "alice"))
                received = await bob.receive()
                assert received["payload"]["data"]["messageAdded"] == {
                    "id": sent["data"]["sendMessage"]["id"], "text": "via A",
                    "conversationId": conversation_id, "sender": {"id": "alice"},
                }
            finally:
                await bob.close()
    finally:
        await probe.close()
