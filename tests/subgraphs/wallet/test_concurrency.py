"""200 concurrent tips out of one wallet: no overdraft, no value lost or created."""

from __future__ import annotations

import asyncio
import base64
import os

import sqlalchemy as sa

from shared.errors import BadUserInputError
from subgraphs.wallet.models import Tip
from subgraphs.wallet.services.crypto import KeyRing
from subgraphs.wallet.services.ledger import balances_of_user
from subgraphs.wallet.services.tips import send_tip
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries, fund

KEYS = KeyRing.parse(f"k:{base64.b64encode(os.urandom(32)).decode()}")
TIPS = 200
AFFORDABLE = 150  # the sender can pay for exactly this many


async def _tip(db, i: int) -> str:  # type: ignore[no-untyped-def]
    try:
        await send_tip(
            database=db, keyring=KEYS, sender_id="whale", recipient_id=f"creator-{i % 7}",
            amount="1.00", currency="USD", idempotency_key=f"tip-{i}", message=f"#{i}",
        )
        return "ok"
    except BadUserInputError as error:
        return str(error.extensions["reason"])


async def test_concurrent_tips_never_overdraw(db) -> None:
    await fund(db, "whale", AFFORDABLE * 100)
    outcomes = await asyncio.gather(*[_tip(db, i) for i in range(TIPS)])
    assert outcomes.count("ok") == AFFORDABLE
    assert outcomes.count("INSUFFICIENT_FUNDS") == TIPS - AFFORDABLE
    async with db.session() as session:
        assert await balances_of_user(session, "whale") == {"USD": 0}
        received = 0
        for k in range(7):
            received += (await balances_of_user(session, f"creator-{k}")).get("USD", 0)
        tips = (await session.execute(sa.select(sa.func.count()).select_from(Tip))).scalar_one()
    assert received == AFFORDABLE * 100
    assert tips == AFFORDABLE
    assert await count_entries(db) == 1 + AFFORDABLE
    await assert_balanced(db)


async def test_concurrent_replays_of_each_key_write_once(db) -> None:
    await fund(db, "whale", 10_000)
    outcomes = await asyncio.gather(*[_tip(db, i % 20) for i in range(100)])
    assert outcomes == ["ok"] * 100
    async with db.session() as session:
        assert await balances_of_user(session, "whale") == {"USD": 10_000 - 20 * 100}
    assert await count_entries(db) == 21
    await assert_balanced(db)
