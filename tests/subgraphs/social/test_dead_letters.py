"""Admin GraphQL over social's dead letters and admin notifications (ADMIN role, else FORBIDDEN)."""

from __future__ import annotations

import asyncio
import uuid

from sqlmodel import select

from shared.auth import TokenIssuer
from shared.events import DeadLetterEvent, Event, EventRoutes, event_handler
from shared.redis import MemoryStore, create_kv

from ._client import gql
from .test_app_ws import social_server, token

CREATE_POST = 'mutation { createPost(input: {text: "first", visibility: PUBLIC}) { id } }'
LETTERS = "query { socialDeadLetters { id topic key payload attempts lastError } }"
REPLAY = "mutation($id: ID!) { replaySocialDeadLetter(id: $id) }"
ADMIN_NOTICES = "query { adminNotifications { edges { node { kind subjectId data } } } }"


def admin_token(issuer: TokenIssuer, user_id: str = "alice") -> str:
    return issuer.issue_access_token(user_id=user_id, roles=["user", "ADMIN"])


async def _dead_letters(database) -> list[DeadLetterEvent]:
    async with database.session() as session:
        return list((await session.execute(select(DeadLetterEvent))).scalars())


async def _until(probe, *, limit: float = 20.0):
    """Poll until `probe()` is truthy (the relay runs in the background); fail after `limit`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not (found := await probe()):
        assert loop.time() < deadline, "the relay did not get there"
        await asyncio.sleep(0.05)
    return found


async def test_dead_letter_is_shown_to_admins_only_and_replays_to_a_new_consumer(database, kv, issuer):
    consumer = f"moderation{uuid.uuid4().hex[:8]}"
    received: list[Event] = []

    @event_handler("social.post_created", consumer=consumer)
    async def review(event: Event) -> None:
        received.append(event)

    routes_kv = create_kv(None, prefix=f"test:routes:{uuid.uuid4().hex}:", store=MemoryStore())
    async with social_server(database, kv, issuer, routes_kv=routes_kv,
                             outbox_dead_letter_attempts=1, outbox_poll_interval=0.05) as (url, app):
        created = await gql(url, CREATE_POST, token=token(issuer, "bob"))
        post_id = created["data"]["createPost"]["id"]
        # Nobody consumes social.post_created yet: after its one attempt it is a dead letter.
        [letter] = await _until(lambda: _dead_letters(database))
        assert (letter.topic, letter.key) == ("social.post_created", post_id)

        for who in (token(issuer, "bob"), None):
            refused = await gql(url, LETTERS, token=who)
            assert refused["data"] is None
            assert refused["errors"][0]["extensions"]["code"] == (
                "FORBIDDEN" if who else "UNAUTHENTICATED")
        shown = await gql(url, LETTERS, token=admin_token(issuer))
        assert shown == {"data": {"socialDeadLetters": [{
            "id": letter.id, "topic": "social.post_created", "key": post_id,
            "payload": letter.payload, "attempts": 1,
            "lastError": "NoConsumer: no consumer is declared or registered for this topic"}]}}
        assert (await gql(url, REPLAY, {"id": letter.id}, token=token(issuer, "bob"))
                )["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        await EventRoutes(routes_kv).register("social.post_created", queue_name=consumer,
                                              actor_name=review.actor_name)
        assert await gql(url, REPLAY, {"id": letter.id}, token=admin_token(issuer)) == {
            "data": {"replaySocialDeadLetter": True}}
        app.state.events.relay.wake()
        await _until(lambda: asyncio.sleep(0, result=bool(received)))
        await app.state.events.worker.join()
        again = await gql(url, REPLAY, {"id": letter.id}, token=admin_token(issuer))
        assert again["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert (await gql(url, LETTERS, token=admin_token(issuer))) == {
            "data": {"socialDeadLetters": []}}
    assert [(e.id, e.payload["postId"]) for e in received] == [(letter.id, post_id)]


async def test_admin_notifications_need_the_admin_role(database, kv, issuer):
    from subgraphs.social.services.notifications import add_notification
    from subgraphs.social.services.wallet_notices import ADMINS

    async with database.session() as session:
        await add_notification(session, user_id=ADMINS, kind="reconciliation_break",
                               actor_id=None, subject_id="42", data={"kind": "negative_balance"})
        await add_notification(session, user_id="bob", kind="cashout", actor_id=None,
                               subject_id="c1", data={"status": "paid"})
        await session.commit()
    async with social_server(database, kv, issuer) as url:
        refused = await gql(url, ADMIN_NOTICES, token=token(issuer, "bob"))
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        shown = await gql(url, ADMIN_NOTICES, token=admin_token(issuer))
        mine = await gql(url, "query { notifications { edges { node { kind subjectId } } } }",
                         token=token(issuer, "bob"))
    assert shown == {"data": {"adminNotifications": {"edges": [{"node": {
        "kind": "RECONCILIATION_BREAK", "subjectId": "42", "data": {"kind": "negative_balance"}}}]}}}
    assert mine == {"data": {"notifications": {"edges": [{"node": {
        "kind": "CASHOUT", "subjectId": "c1"}}]}}}
