"""The synchronous check on moderation's internal port, called with real service credentials."""

from __future__ import annotations

from importlib import metadata

import pytest
from sqlalchemy import select

from shared.errors import BadUserInputError, ServiceUnavailableError
from subgraphs.moderation.internal import CHECK_PATH
from subgraphs.moderation.models import Report, Verdict

from ._served import client_as, serve_moderation


@pytest.fixture
async def served(tmp_path, classifier, database):
    # On the `database` fixture's SQLite file or PostgreSQL database, migrated and empty.
    url = database.engine.url.render_as_string(hide_password=False)
    served = await serve_moderation(tmp_path, classifier=classifier, database_url=url,
                                    duplicate_limit=2)
    yield served
    await served.stop()


async def verdict_row(served, verdict_id: str) -> Verdict:
    async with served.app.state.database.session() as session:
        row = await session.get(Verdict, verdict_id)
    assert row is not None
    return row


async def test_a_clean_post_is_allowed_and_its_verdict_stored(served) -> None:
    client = client_as("social", served)
    try:
        answer = await client.call("moderation", CHECK_PATH, {
            "surface": "post", "text": "Lovely sunset at the beach today", "authorId": "u1"})
    finally:
        await client.close()
    assert answer["action"] == "ALLOW" and answer["reason"] is None
    row = await verdict_row(served, answer["verdictId"])
    assert (row.surface, row.caller, row.author_id, row.action) == ("post", "social", "u1", "ALLOW")
    assert row.model_name == "alt-profanity-check"
    assert row.model_version == metadata.version("alt-profanity-check")
    assert set(row.scores) == {"profanity", "blocklist", "spam"} and row.rules == []
    assert row.latency_ms > 0


async def test_abuse_is_blocked_naming_the_reason(served) -> None:
    client = client_as("wallet", served)
    try:
        answer = await client.call("moderation", CHECK_PATH, {
            "surface": "tip_message", "text": "يا ابن الكلب", "authorId": "u2"})
    finally:
        await client.close()
    assert (answer["action"], answer["reason"]) == ("BLOCK", "BLOCKLIST")
    assert answer["rules"] == ["blocklist:ar"]
    assert (await verdict_row(served, answer["verdictId"])).action == "BLOCK"


async def test_a_held_subject_opens_a_case_for_review(served) -> None:
    client = client_as("social", served)
    flood = " ".join(f"https://spam{i}.example.xyz" for i in range(6))
    try:
        answer = await client.call("moderation", CHECK_PATH, {
            "surface": "post", "text": flood, "authorId": "u3", "subjectId": "p-held"})
    finally:
        await client.close()
    assert answer["action"] == "HOLD"
    async with served.app.state.database.session() as session:
        cases = list((await session.execute(select(Report))).scalars())
    assert [(c.subject_type, c.subject_id, c.status, c.verdict_id) for c in cases] == [
        ("POST", "p-held", "OPEN", answer["verdictId"])]


async def test_the_same_text_again_and_again_becomes_spam(served) -> None:
    client = client_as("social", served)
    body = {"surface": "comment", "text": "check out my profile", "authorId": "u4"}
    try:
        answers = [await client.call("moderation", CHECK_PATH, body) for _ in range(3)]
        other = await client.call("moderation", CHECK_PATH, {**body, "authorId": "u5"})
    finally:
        await client.close()
    assert [a["action"] for a in answers] == ["ALLOW", "ALLOW", "HOLD"]
    assert "duplicate_text" in answers[2]["rules"]
    assert other["action"] == "ALLOW"


async def test_bad_bodies_get_coded_errors(served) -> None:
    client = client_as("social", served)
    try:
        with pytest.raises(BadUserInputError) as bad_surface:
            await client.call("moderation", CHECK_PATH, {"surface": "blog", "text": "x",
                                                         "authorId": "u"})
        with pytest.raises(BadUserInputError) as no_author:
            await client.call("moderation", CHECK_PATH, {"surface": "post", "text": "x"})
    finally:
        await client.close()
    assert bad_surface.value.extensions["field"] == "surface"
    assert no_author.value.extensions["field"] == "authorId"


async def test_only_named_services_may_ask(served) -> None:
    client = client_as("markets", served)
    try:
        # A refused credential is the caller's deployment fault: it surfaces as unavailable.
        with pytest.raises(ServiceUnavailableError):
            await client.call("moderation", CHECK_PATH, {"surface": "post", "text": "hello",
                                                         "authorId": "u"})
    finally:
        await client.close()
    async with served.app.state.database.session() as session:
        assert list((await session.execute(select(Verdict))).scalars()) == []
