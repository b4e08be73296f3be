"""Posts and comments pass moderation's synchronous check first: a real moderation service on
loopback (tests/subgraphs/moderation/_served.py) answers, with social's own service credential."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from shared.auth import ANONYMOUS, Caller
from shared.context import RequestContext
from shared.db import create_database, upgrade
from shared.events import OutboxEvent
from shared.internal import InternalClient
from shared.references import References
from shared.service_auth import ServiceIdentity
from shared.testing import sqlite_url
from subgraphs.moderation.models import Report
from subgraphs.moderation.services.classifier import TextClassifier
from subgraphs.social.config import SocialSettings
from subgraphs.social.models import Comment, Notification, Post
from subgraphs.social.schema import schema
from tests._peers import peer_stack
from tests.subgraphs.moderation._served import serve_moderation

from .conftest import MIGRATIONS
from .test_schema import PEOPLE

CREATE = """mutation($t: String!, $m: [ID!]) {
  createPost(input: {text: $t, mentionUserIds: $m}) { id text held } }"""
COMMENT = "mutation($p: ID!, $t: String!) { addComment(input: {postId: $p, text: $t}) { id held } }"
READ = "query($id: ID!) { post(id: $id) { text held comments { nodes { text held } } } }"
TRENDING = "query { trendingFeed { nodes { id } } }"
ABUSE = "fuck you, you worthless piece of shit"
LINK_FLOOD = " ".join(f"free followers https://spam{i}.example.xyz" for i in range(6))


_loaded: TextClassifier | None = None


def _classifier() -> TextClassifier:
    """One loaded model per test process (loading takes seconds)."""
    global _loaded
    if _loaded is None:
        _loaded = TextClassifier()
        _loaded.load()
    return _loaded


@pytest.fixture
async def moderation(tmp_path):
    served = await serve_moderation(tmp_path, classifier=_classifier())
    yield served
    await served.stop()


async def run(database, kv, query: str, variables: dict[str, Any] | None = None, *,
              user: str | None, moderation_url: str, **settings: Any):
    stack = peer_stack()
    stack.add_users(*PEOPLE)
    client = InternalClient(ServiceIdentity(name="social", keys=stack.keys["social"]),
                            {**stack.urls, "moderation": moderation_url})
    context = RequestContext(
        caller=Caller(user_id=user) if user else ANONYMOUS, request_id="test", database=database,
        kv=kv, settings=SocialSettings(environment="test", **settings),
        request=None,  # type: ignore[arg-type]
        references=References(client))
    try:
        result = await schema.execute(query, variable_values=variables, context_value=context)
    finally:
        await client.close()
    errors = [e.extensions or {} for e in result.errors or ()]
    return result.data, errors


async def count(database, model) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_blocked_post_is_refused_and_nothing_is_written(database, kv, moderation) -> None:
    url = moderation.app.state.internal_url
    data, errors = await run(database, kv, CREATE, {"t": ABUSE, "m": ["bob"]}, user="alice",
                             moderation_url=url)
    assert data is None
    [error] = errors
    assert (error["code"], error["reason"], error["moderationReason"]) == (
        "BAD_USER_INPUT", "CONTENT_BLOCKED", "BLOCKLIST")
    assert error["verdictId"]
    assert [await count(database, m) for m in (Post, Notification, OutboxEvent)] == [0, 0, 0]


async def test_a_held_post_is_visible_to_its_author_only(database, kv, moderation) -> None:
    url = moderation.app.state.internal_url
    data, errors = await run(database, kv, CREATE, {"t": LINK_FLOOD, "m": ["bob"]}, user="alice",
                             moderation_url=url)
    assert errors == []
    post = data["createPost"]
    assert post["held"] is True
    own, errors = await run(database, kv, READ, {"id": post["id"]}, user="alice", moderation_url=url)
    assert errors == [] and own["post"]["text"] == LINK_FLOOD and own["post"]["held"] is True
    for viewer in ("bob", None):
        _, errors = await run(database, kv, READ, {"id": post["id"]}, user=viewer,
                              moderation_url=url)
        assert [e["code"] for e in errors] == ["NOT_FOUND"]
    feed, _ = await run(database, kv, TRENDING, user="bob", moderation_url=url)
    assert feed["trendingFeed"]["nodes"] == []
    assert await count(database, Notification) == 0  # bob was mentioned, but nothing is shown yet
    # Moderation opened a case about exactly this post.
    async with moderation.app.state.database.session() as session:
        cases = list((await session.execute(select(Report))).scalars())
    assert [(c.subject_type, c.subject_id) for c in cases] == [("POST", post["id"])]


async def test_a_clean_post_is_visible_to_everyone(database, kv, moderation) -> None:
    url = moderation.app.state.internal_url
    data, errors = await run(database, kv, CREATE, {"t": "Morning run done, 5k in the rain"},
                             user="alice", moderation_url=url)
    assert errors == [] and data["createPost"]["held"] is False
    seen, errors = await run(database, kv, READ, {"id": data["createPost"]["id"]}, user="bob",
                             moderation_url=url)
    assert errors == [] and seen["post"]["held"] is False


async def test_comments_are_checked_too(database, kv, moderation) -> None:
    url = moderation.app.state.internal_url
    created, _ = await run(database, kv, CREATE, {"t": "What should I cook tonight?"},
                           user="alice", moderation_url=url)
    post_id = created["createPost"]["id"]
    _, errors = await run(database, kv, COMMENT, {"p": post_id, "t": "يا ابن الكلب"}, user="bob",
                          moderation_url=url)
    assert [(e["code"], e["reason"]) for e in errors] == [("BAD_USER_INPUT", "CONTENT_BLOCKED")]
    assert await count(database, Comment) == 0
    held, errors = await run(database, kv, COMMENT, {"p": post_id, "t": LINK_FLOOD}, user="bob",
                             moderation_url=url)
    assert errors == [] and held["addComment"]["held"] is True
    clean, _ = await run(database, kv, COMMENT, {"p": post_id, "t": "Pasta, always pasta"},
                         user="carol", moderation_url=url)
    assert clean["addComment"]["held"] is False
    as_bob, _ = await run(database, kv, READ, {"id": post_id}, user="bob", moderation_url=url)
    as_alice, _ = await run(database, kv, READ, {"id": post_id}, user="alice", moderation_url=url)
    assert [c["text"] for c in as_bob["post"]["comments"]["nodes"]] == [LINK_FLOOD,
                                                                          "Pasta, always pasta"]
    assert [c["text"] for c in as_alice["post"]["comments"]["nodes"]] == ["Pasta, always pasta"]


async def test_moderation_down_follows_the_surface_policy(database, kv, tmp_path) -> None:
    served = await serve_moderation(tmp_path, classifier=_classifier())
    url = served.app.state.internal_url
    await served.stop()  # moderation is down: nothing listens on its internal port any more
    _, errors = await run(database, kv, CREATE, {"t": "hello"}, user="alice", moderation_url=url,
                          moderation_post_policy="closed")
    assert [(e["code"], e["reason"]) for e in errors] == [
        ("SERVICE_UNAVAILABLE", "MODERATION_UNAVAILABLE")]
    assert [await count(database, m) for m in (Post, OutboxEvent)] == [0, 0]
    data, errors = await run(database, kv, CREATE, {"t": "hello"}, user="alice",
                             moderation_url=url, moderation_post_policy="open")
    assert errors == [] and data["createPost"]["held"] is False
    assert await count(database, Post) == 1


async def test_existing_posts_stay_visible_after_the_upgrade(tmp_path: Path) -> None:
    database = create_database(sqlite_url(tmp_path, "old"))
    try:
        await upgrade(database, MIGRATIONS, revision="0005")
        async with database.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO social_posts (id, author_id, text, visibility, reactions_count, "
                "comments_count, hot_score, created_at) "
                "VALUES ('old', 'alice', 'before moderation', 'public', 0, 0, 0, '2026-01-01')"))
        await upgrade(database, MIGRATIONS)
        async with database.session() as session:
            row = await session.get(Post, "old")
        assert row is not None and row.moderation_state == "visible"
    finally:
        await database.dispose()
