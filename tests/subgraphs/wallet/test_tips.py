"""sendTip at the service level: ledger effects, encryption at rest, events, and bad input."""

from __future__ import annotations

import base64
import os

import pytest
import sqlalchemy as sa

from shared.errors import BadUserInputError, ConflictError, TributaryError
from subgraphs.wallet.models import Tip
from subgraphs.wallet.services.crypto import KeyRing, load_keyring
from subgraphs.wallet.services.outbox import TOPIC_TIP_SENT, list_events
from subgraphs.wallet.services.tips import (
    list_tips,
    send_tip,
    tip_totals_by_post,
    tip_totals_by_user,
)
from tests.subgraphs.wallet.helpers import (
    assert_balanced,
    count_entries,
    count_lines,
    fund,
    user_balance,
)


def _ring(*kids: str) -> KeyRing:
    return KeyRing.parse(",".join(f"{kid}:{base64.b64encode(os.urandom(32)).decode()}" for kid in kids))


KEYS = _ring("k1")


async def _tip(db, *, key="t1", sender="alice", to="bob", amount="1.50", currency="USD", **kw):  # type: ignore[no-untyped-def]
    return await send_tip(
        database=db, keyring=KEYS, sender_id=sender, recipient_id=to, amount=amount,
        currency=currency, idempotency_key=key, **kw,
    )


async def test_tip_moves_money_and_encrypts_message(db) -> None:
    await fund(db, "alice", 1_000)
    sent = await _tip(db, message="  thanks for the great post!  ", post_id="p1")
    assert not sent.replayed
    tip = sent.tip
    assert (tip.sender_id, tip.recipient_id, tip.amount, tip.currency, tip.post_id) == (
        "alice", "bob", 150, "USD", "p1",
    )
    async with db.session() as session:
        assert await user_balance(session, "alice") == 850
        assert await user_balance(session, "bob") == 150
        stored = (await session.execute(sa.select(Tip))).scalar_one()
        events = await list_events(session=session, topic=TOPIC_TIP_SENT)
    assert stored.message_kid == "k1"
    assert b"thanks" not in stored.message_ciphertext
    assert KEYS.decrypt(stored.message_kid, stored.message_ciphertext, aad=tip.id.encode()) == (
        "thanks for the great post!"
    )
    # Bound to its tip: the same ciphertext cannot be replayed onto another tip.
    assert KEYS.decrypt(stored.message_kid, stored.message_ciphertext, aad=b"other") is None
    assert [e.payload["tipId"] for e in events] == [tip.id]
    assert events[0].payload["amountMinor"] == 150
    await assert_balanced(db)


async def test_replay_returns_the_original_tip(db) -> None:
    await fund(db, "alice", 1_000)
    first = await _tip(db, key="same", message="hi")
    again = await _tip(db, key="same", message="hi")
    assert again.replayed and again.tip == first.tip
    with pytest.raises(ConflictError):
        await _tip(db, key="same", amount="2.00")
    with pytest.raises(ConflictError):
        await _tip(db, key="same", message="different")
    assert await count_entries(db) == 2
    async with db.session() as session:
        assert await user_balance(session, "alice") == 850
        assert len(await list_events(session=session, topic=TOPIC_TIP_SENT)) == 1


BAD_INPUTS = [
    ({"amount": "-1.00"}, "NOT_POSITIVE"),
    ({"amount": "0"}, "NOT_POSITIVE"),
    ({"amount": "0.00"}, "NOT_POSITIVE"),
    ({"amount": "10.01"}, "INSUFFICIENT_FUNDS"),
    ({"amount": "1.001"}, "TOO_PRECISE"),
    ({"amount": "abc"}, "INVALID_AMOUNT"),
    ({"amount": "1e3"}, "INVALID_AMOUNT"),
    ({"amount": "NaN"}, "INVALID_AMOUNT"),
    ({"amount": ""}, "INVALID_AMOUNT"),
    ({"amount": "90071992547409.92"}, "TOO_LARGE"),  # 2^53 minor units
    ({"amount": "92233720368547758.08"}, "TOO_LARGE"),  # past BIGINT
    ({"amount": "99999999999999999999"}, "TOO_LARGE"),
    ({"currency": "XYZ"}, "UNKNOWN_CURRENCY"),
    ({"currency": "EUR"}, "INSUFFICIENT_FUNDS"),  # no EUR balance at all
    ({"to": "alice"}, "SELF_TIP"),
    ({"to": ""}, "INVALID_ID"),
    ({"to": "x" * 129}, "INVALID_ID"),
    ({"key": None}, "MISSING_IDEMPOTENCY_KEY"),
    ({"key": ""}, "MISSING_IDEMPOTENCY_KEY"),
    ({"message": "x" * 501}, "TOO_LONG"),
]


@pytest.mark.parametrize(("override", "reason"), BAD_INPUTS, ids=[r for _, r in BAD_INPUTS])
async def test_bad_input_is_refused_and_writes_nothing(db, override, reason) -> None:  # type: ignore[no-untyped-def]
    await fund(db, "alice", 1_000)
    entries, lines = await count_entries(db), await count_lines(db)
    with pytest.raises(TributaryError) as caught:
        await _tip(db, **override)
    assert isinstance(caught.value, BadUserInputError)
    assert caught.value.code == "BAD_USER_INPUT"
    assert caught.value.extensions["reason"] == reason
    assert (await count_entries(db), await count_lines(db)) == (entries, lines)
    async with db.session() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Tip))).scalar_one() == 0
        assert await list_events(session=session, topic=TOPIC_TIP_SENT) == []
        assert await user_balance(session, "alice") == 1_000
    await assert_balanced(db)


async def test_lists_and_totals(db) -> None:
    await fund(db, "alice", 10_000)
    await fund(db, "carol", 10_000, "EUR")
    await _tip(db, key="1", amount="1.00", post_id="p1")
    await _tip(db, key="2", amount="2.00", post_id="p1")
    await _tip(db, key="3", sender="carol", amount="5", currency="EUR", post_id="p1")
    await _tip(db, key="4", to="carol", amount="0.25")
    async with db.session() as session:
        received = await list_tips(session=session, user_id="bob", direction="received")
        sent = await list_tips(session=session, user_id="alice", direction="sent", first=2)
        by_user = await tip_totals_by_user(session=session, user_ids=["bob", "carol", "nobody"], direction="received")
        by_sender = await tip_totals_by_user(session=session, user_ids=["alice"], direction="sent")
        by_post = await tip_totals_by_post(session=session, post_ids=["p1", "p2"])
    assert sorted(t.amount for t in received) == [100, 200, 500]
    assert len(sent) == 2
    assert by_user == {"bob": {"USD": 300, "EUR": 500}, "carol": {"USD": 25}, "nobody": {}}
    assert by_sender == {"alice": {"USD": 325}}
    assert by_post == {"p1": {"USD": 300, "EUR": 500}, "p2": {}}


def test_keys_rotate_and_old_ciphertexts_stay_readable() -> None:
    old = _ring("old")
    kid, blob = old.encrypt("hello", aad=b"tip-1")
    rotated = KeyRing(keys={"new": _ring("new").keys["new"], **old.keys}, active="new")
    assert rotated.decrypt(kid, blob, aad=b"tip-1") == "hello"
    assert rotated.encrypt("x", aad=b"a")[0] == "new"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert rotated.decrypt(kid, tampered, aad=b"tip-1") is None
    assert _ring("other").decrypt(kid, blob, aad=b"tip-1") is None


def test_keyring_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dev = load_keyring(None, environment="dev", data_dir=str(tmp_path))
    assert load_keyring(None, environment="dev", data_dir=str(tmp_path)) == dev
    assert (tmp_path / "wallet_encryption.key").stat().st_mode & 0o077 == 0
    with pytest.raises(SystemExit, match="WALLET_ENCRYPTION_KEYS"):
        load_keyring(None, environment="prod", data_dir=str(tmp_path))
    for bad in ("nokey", "k1:!!notbase64", f"k1:{base64.b64encode(b'short').decode()}"):
        with pytest.raises(ValueError):
            KeyRing.parse(bad)
