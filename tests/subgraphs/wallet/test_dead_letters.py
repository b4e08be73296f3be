"""The wallet's dead letters through its GraphQL API: ADMIN sees and replays, others are refused."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from shared.events import DeadLetterEvent, OutboxEvent
from tests.subgraphs.wallet.test_api import ISSUER, api  # noqa: F401 - the fixture

LETTERS = 'query { walletDeadLetters(topic: "wallet.orphan") { id topic key payload attempts } }'
REPLAY = 'mutation { replayWalletDeadLetters(topic: "wallet.orphan") }'


def _admin() -> dict[str, str]:
    token = ISSUER.issue_access_token(user_id="alice", roles=["USER", "ADMIN"])
    return {"authorization": f"Bearer {token}"}


async def test_admin_lists_and_replays_wallet_dead_letters(api, db) -> None:  # noqa: F811
    async with db.transaction() as session:
        session.add(DeadLetterEvent(id="e" * 32, topic="wallet.orphan", key="k", payload={"n": 1},
                                    created_at=datetime.now(UTC), attempts=7, last_error="NoConsumer"))
    refused = await api(LETTERS, user="bob")
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api(REPLAY, user="bob"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await api(LETTERS, headers=_admin()) == {"data": {"walletDeadLetters": [
        {"id": "e" * 32, "topic": "wallet.orphan", "key": "k", "payload": {"n": 1}, "attempts": 7}]}}
    assert await api(REPLAY, headers=_admin()) == {"data": {"replayWalletDeadLetters": 1}}
    assert await api(LETTERS, headers=_admin()) == {"data": {"walletDeadLetters": []}}
    async with db.session() as session:
        row = await session.get(OutboxEvent, "e" * 32)
        left = list((await session.execute(select(DeadLetterEvent))).scalars())
    # Back in the outbox under the same id; it waits there until wallet.orphan has a consumer.
    assert row is not None and row.published_at is None and row.payload == {"n": 1}
    assert left == []
