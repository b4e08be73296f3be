"""Leaderboards on real Redis and on the in-memory KV: increments, rebuilds, periods, ranks."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from shared.errors import BadUserInputError
from shared.redis import MemoryStore, create_kv
from shared.testing import redis_url
from subgraphs.wallet.models import Tip, utcnow
from subgraphs.wallet.services.crypto import KeyRing
from subgraphs.wallet.services.leaderboards import BoardKind, Period, own_rank, record_tip, top
from subgraphs.wallet.services.ledger import new_id
from subgraphs.wallet.services.tips import send_tip
from tests.subgraphs.wallet.helpers import fund

KEYS = KeyRing.parse(f"k:{base64.b64encode(os.urandom(32)).decode()}")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def kv(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    prefix = f"test:wallet:{uuid.uuid4().hex[:8]}:"
    if request.param == "memory":
        store = create_kv(None, prefix=prefix, store=MemoryStore())
        yield store
        await store.close()
        return
    store = create_kv(redis_url(), prefix=prefix)
    try:
        yield store
    finally:
        await _wipe(store)
        await store.close()


async def _wipe(store) -> None:  # type: ignore[no-untyped-def]
    client = getattr(store, "client", None)
    if client is not None:
        keys = [k async for k in client.scan_iter(match=f"{store.prefix}*")]
        if keys:
            await client.delete(*keys)
    else:
        for key in store.store.keys(f"{store.prefix}*"):
            store.store.drop(key)


async def _tip(db, kv, sender, to, amount, key):  # type: ignore[no-untyped-def]
    sent = await send_tip(database=db, keyring=KEYS, sender_id=sender, recipient_id=to,
                          amount=amount, currency="USD", idempotency_key=key)
    tip = sent.tip
    await record_tip(kv, sender_id=tip.sender_id, recipient_id=tip.recipient_id,
                     currency=tip.currency, amount=tip.amount, at=tip.created_at)


async def _board(db, kv, kind, period=Period.ALL):  # type: ignore[no-untyped-def]
    return [(r.user_id, r.rank, r.total) for r in await top(kv, database=db, kind=kind, period=period, currency="USD")]


async def test_boards_build_increment_and_rebuild(db, kv) -> None:
    await fund(db, "alice", 10_000)
    await fund(db, "carol", 10_000)
    await _tip(db, kv, "alice", "bob", "3.00", "1")
    await _tip(db, kv, "carol", "bob", "1.00", "2")
    await _tip(db, kv, "alice", "dave", "5.00", "3")
    # First read builds from the tips table (the boards did not exist when the tips were made).
    assert await _board(db, kv, BoardKind.CREATORS) == [("dave", 1, 500), ("bob", 2, 400)]
    assert await _board(db, kv, BoardKind.TIPPERS, Period.DAY) == [("alice", 1, 800), ("carol", 2, 100)]
    # Built boards are incremented by each new tip.
    await _tip(db, kv, "carol", "bob", "2.00", "4")
    assert await _board(db, kv, BoardKind.CREATORS) == [("bob", 1, 600), ("dave", 2, 500)]
    mine = await own_rank(kv, database=db, kind=BoardKind.TIPPERS, period=Period.WEEK,
                          currency="USD", user_id="carol")
    nobody = await own_rank(kv, database=db, kind=BoardKind.TIPPERS, period=Period.ALL,
                            currency="USD", user_id="bob")
    assert (mine.rank, mine.total) == (2, 300)
    assert nobody is None
    # Losing Redis loses nothing: the next read rebuilds the same board.
    await _wipe(kv)
    assert await _board(db, kv, BoardKind.CREATORS) == [("bob", 1, 600), ("dave", 2, 500)]
    assert await _board(db, kv, BoardKind.TIPPERS, Period.MONTH) == [("alice", 1, 800), ("carol", 2, 300)]


async def test_periods_count_only_their_tips(db, kv) -> None:
    await fund(db, "alice", 10_000)
    await _tip(db, kv, "alice", "bob", "1.00", "now")
    async with db.session() as session:
        tip = (await session.execute(Tip.__table__.select())).first()
        session.add(Tip(id=new_id(), sender_id="old", recipient_id="bob", currency="USD", amount=900,
                        entry_id=tip.entry_id, created_at=utcnow() - timedelta(days=400)))
        await session.commit()
    assert await _board(db, kv, BoardKind.CREATORS, Period.ALL) == [("bob", 1, 1_000)]
    assert await _board(db, kv, BoardKind.CREATORS, Period.MONTH) == [("bob", 1, 100)]
    assert await _board(db, kv, BoardKind.TIPPERS, Period.ALL) == [("old", 1, 900), ("alice", 2, 100)]
    assert await _board(db, kv, BoardKind.TIPPERS, Period.DAY) == [("alice", 1, 100)]
    with pytest.raises(BadUserInputError):
        await top(kv, database=db, kind=BoardKind.TIPPERS, period=Period.DAY, currency="XXX")


async def test_increments_go_to_the_boards_of_the_tips_own_day(db, kv) -> None:
    # Boards are built (empty) for two days; each tip's increment lands on its own day's board,
    # on the week/month/all-time boards those days belong to, and nowhere else.
    from datetime import UTC, datetime

    monday, sunday = datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    for at in (monday, sunday):
        for period in Period:
            await top(kv, database=db, kind=BoardKind.CREATORS, period=period, currency="USD", at=at)
    await record_tip(kv, sender_id="ann", recipient_id="bob", currency="USD", amount=300, at=monday)
    await record_tip(kv, sender_id="ann", recipient_id="cy", currency="USD", amount=200, at=sunday)
    await record_tip(kv, sender_id="ann", recipient_id="bob", currency="USD", amount=5,
                     at=monday.replace(tzinfo=None))  # naive: UTC

    async def board(period: Period, at: datetime) -> list[tuple[str, int]]:
        ranked = await top(kv, database=db, kind=BoardKind.CREATORS, period=period,
                           currency="USD", at=at)
        return [(r.user_id, r.total) for r in ranked]

    assert await board(Period.DAY, monday) == [("bob", 305)]
    assert await board(Period.DAY, sunday) == [("cy", 200)]
    assert await board(Period.WEEK, monday) == [("bob", 305)]  # a new ISO week starts on Monday
    assert await board(Period.WEEK, sunday) == [("cy", 200)]
    assert await board(Period.MONTH, monday) == [("bob", 305), ("cy", 200)]
    assert await board(Period.ALL, monday) == [("bob", 305), ("cy", 200)]
    from subgraphs.wallet.services.leaderboards import board as board_of

    for period in Period:  # the tippers' boards were never built: their increments were skipped
        assert await kv.zcard(board_of(BoardKind.TIPPERS, period, "USD", at=monday).key) == 0
