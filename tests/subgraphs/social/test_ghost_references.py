"""Social rows naming a user identity does not know, read through a composed gateway.

The ghost rows are written straight into the social database (no service check can stop them):
follow lists, feeds and conversations must still answer every real item, with only the ghost's
user reference null and an error with a code at its path, never `data: null`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from shared.db import Database
from subgraphs.social.models import Conversation, ConversationMember, Follow, Message, Post, utcnow
from tests.e2e._stack import (
    Api,
    memory_kv,
    register_and_login,
    social_settings,
    start_gateway,
    start_identity,
    start_social,
    stopping,
    supergraph_of,
)

FOLLOWS = """query($id: ID!) {
  user(id: $id) {
    handle
    following { edges { node { id handle } } }
    followers { edges { node { id handle } } }
  }
}"""
FEED = "{ homeFeed { nodes { text author { id handle } } } }"
CONVERSATION = """query($id: ID!) {
  conversation(id: $id) {
    members { user { id handle } }
    messages { nodes { text sender { id handle } } }
  }
}"""


async def _write_rows(database: Database, *, alice: str, bob: str, ghost: str) -> str:
    """Follows, posts and a group conversation that name `ghost`; returns the conversation id."""
    now = utcnow()
    conversation = Conversation(kind="group", title="with a ghost", created_at=now, last_message_at=now)
    async with database.session() as session:
        session.add_all([
            Follow(follower_id=alice, followee_id=bob, created_at=now - timedelta(minutes=2)),
            Follow(follower_id=alice, followee_id=ghost, created_at=now - timedelta(minutes=1)),
            Follow(follower_id=ghost, followee_id=alice, created_at=now),
            Post(author_id=bob, text="bob's post", visibility="public", created_at=now - timedelta(minutes=2)),
            Post(author_id=ghost, text="ghost's post", visibility="public", created_at=now - timedelta(minutes=1)),
            conversation,
        ])
        await session.flush()
        session.add_all([
            ConversationMember(conversation_id=conversation.id, user_id=user, joined_at=now - timedelta(minutes=3 - i))
            for i, user in enumerate((alice, ghost, bob))
        ])
        session.add_all([
            Message(conversation_id=conversation.id, sender_id=bob, text="hi", created_at=now - timedelta(minutes=2)),
            Message(conversation_id=conversation.id, sender_id=ghost, text="boo", created_at=now - timedelta(minutes=1)),
        ])
        await session.commit()
    return conversation.id


def _assert_coded_errors(body: dict[str, Any], *paths: list[Any]) -> None:
    """Errors only at (or under) the ghosts' paths, one at least at each, each with a code."""
    errors = body.get("errors") or []
    assert all(any(e["path"][: len(p)] == p for p in paths) for e in errors), errors
    assert all(any(e["path"][: len(p)] == p for e in errors) for p in paths), errors
    assert all((e.get("extensions") or {}).get("code") for e in errors), errors


async def test_ghost_rows_null_only_the_ghost_through_the_gateway(database: Database, tmp_path: Path) -> None:
    ghost = str(uuid.uuid4())  # shaped like identity's ids, but no account has it
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity = await start_identity(servers, tmp_path)
        settings = social_settings(tmp_path, identity=identity, migrate_on_startup=False)
        # `database` is the conftest's (SQLite file or PostgreSQL), already migrated
        social = await start_social(servers, settings, kv=memory_kv(settings.kv_prefix),
                                    routes_kv=memory_kv("tributary:test:e2e:routes:"), database=database)
        supergraph = await supergraph_of({"identity": identity.graphql, "social": social.graphql})
        api = Api(http, (await start_gateway(servers, supergraph, identity=identity)).graphql)
        alice = await register_and_login(api, "alice_ghost", "Alice")
        bob = await register_and_login(api, "bob_ghost", "Bob")
        conversation = await _write_rows(database, alice=alice.id, bob=bob.id, ghost=ghost)
        bob_ref = {"id": bob.id, "handle": bob.handle}

        follows = await api(FOLLOWS, {"id": alice.id}, token=alice.token)
        assert follows["data"] == {"user": {
            "handle": alice.handle,
            "following": {"edges": [{"node": None}, {"node": bob_ref}]},
            "followers": {"edges": [{"node": None}]},
        }}
        _assert_coded_errors(follows, ["user", "following", "edges", 0, "node"],
                             ["user", "followers", "edges", 0, "node"])

        feed = await api(FEED, token=alice.token)
        assert feed["data"] == {"homeFeed": {"nodes": [
            {"text": "ghost's post", "author": None},
            {"text": "bob's post", "author": bob_ref},
        ]}}
        _assert_coded_errors(feed, ["homeFeed", "nodes", 0, "author"])

        chat = await api(CONVERSATION, {"id": conversation}, token=alice.token)
        assert chat["data"] == {"conversation": {
            "members": [{"user": {"id": alice.id, "handle": alice.handle}}, {"user": None}, {"user": bob_ref}],
            "messages": {"nodes": [{"text": "boo", "sender": None}, {"text": "hi", "sender": bob_ref}]},
        }}
        _assert_coded_errors(chat, ["conversation", "members", 1, "user"],
                             ["conversation", "messages", "nodes", 0, "sender"])
