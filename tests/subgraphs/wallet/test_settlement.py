"""Deposits settle before they can be spent; refunds and disputes reverse or freeze them."""

from __future__ import annotations

import base64
import os
import time
from datetime import timedelta

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from shared.errors import BadUserInputError
from subgraphs.wallet.models import utcnow
from subgraphs.wallet.services.cashouts import request_cashout
from subgraphs.wallet.services.crypto import KeyRing
from subgraphs.wallet.services.deposits import IntentView, create_deposit, get_intent, settle_due
from subgraphs.wallet.services.ledger import (
    SystemAccount,
    balance_of,
    holdings_of_user,
    system_account,
)
from subgraphs.wallet.services.providers import SandboxProvider, StripeProvider, sign_payload
from subgraphs.wallet.services.tips import send_tip
from subgraphs.wallet.webhooks import webhook_routes
from tests.subgraphs.wallet.helpers import assert_balanced

SECRET = "sandbox-secret-for-tests-0123456789"
STRIPE_SECRET = "whsec_test_settlement_0123456789"
sandbox = SandboxProvider(webhook_secret=SECRET, tolerance=300)
stripe = StripeProvider(webhook_secret=STRIPE_SECRET, tolerance=300)
KEYS = KeyRing.parse(f"k1:{base64.b64encode(os.urandom(32)).decode()}")
HOLD = timedelta(hours=72)


def _client(db, hold: timedelta = HOLD) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    app = Starlette(routes=webhook_routes(database=db, providers={"sandbox": sandbox, "stripe": stripe},
                                          settlement_hold=hold))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wallet")


async def _post(db, body: bytes, headers: dict[str, str], hold: timedelta = HOLD) -> str:  # type: ignore[no-untyped-def]
    async with _client(db, hold) as client:
        response = await client.post("/webhooks/sandbox", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["outcome"])


async def _confirmed(db, *, key="d1", amount="25.00", user="alice", hold=HOLD) -> IntentView:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        intent = await create_deposit(session=session, provider=sandbox, user_id=user, amount=amount,
                                      currency="USD", idempotency_key=key)
    assert intent.provider_ref is not None
    body, headers = sandbox.build_webhook(intent_ref=intent.provider_ref, amount=intent.amount, currency="USD")
    assert await _post(db, body, headers, hold) == "applied"
    return intent


async def _event(db, intent: IntentView, event_type: str, amount: int, *, event_id: str | None = None,
                 status: str | None = None) -> str:  # type: ignore[no-untyped-def]
    assert intent.provider_ref is not None
    body, headers = sandbox.build_webhook(intent_ref=intent.provider_ref, amount=amount, currency="USD",
                                          event_type=event_type, event_id=event_id, dispute_status=status)
    return await _post(db, body, headers)


async def _holdings(db, user: str = "alice") -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The user's non-zero accounts in USD, by kind."""
    async with db.session() as session:
        held = await holdings_of_user(session, user)
    return {kind.value: by_cur["USD"] for kind, by_cur in held.items() if by_cur.get("USD")}


async def _clearing(db) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await balance_of(session, system_account(SystemAccount.DEPOSITS_CLEARING, "USD"))


async def _tip(db, key: str, amount: str, sender: str = "alice", to: str = "bob"):  # type: ignore[no-untyped-def]
    return await send_tip(database=db, keyring=KEYS, sender_id=sender, recipient_id=to, amount=amount,
                          currency="USD", idempotency_key=key)


async def _cashout(db, key: str, amount: str, user: str = "alice"):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await request_cashout(session=session, user_id=user, amount=amount, currency="USD",
                                     idempotency_key=key)


def _reason(error: pytest.ExceptionInfo[BadUserInputError]) -> str:
    return str(error.value.extensions["reason"])


async def _settle(db, after: timedelta) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await settle_due(session=session, now=utcnow() + after)


async def test_deposit_cannot_be_cashed_out_or_tipped_before_settlement(db) -> None:
    intent = await _confirmed(db)
    assert await _holdings(db) == {"user_settling": 2500}
    with pytest.raises(BadUserInputError) as refused:
        await _cashout(db, "c1", "10.00")
    assert _reason(refused) == "INSUFFICIENT_FUNDS"
    with pytest.raises(BadUserInputError) as refused_tip:
        await _tip(db, "t1", "1.00")
    assert _reason(refused_tip) == "INSUFFICIENT_FUNDS"
    assert await _settle(db, HOLD - timedelta(minutes=1)) == 0  # the hold has not ended
    assert await _holdings(db) == {"user_settling": 2500}
    assert await _settle(db, HOLD + timedelta(seconds=1)) == 1
    assert await _settle(db, HOLD + timedelta(seconds=1)) == 0  # settles once
    assert await _holdings(db) == {"user": 2500}
    async with db.session() as session:
        view = await get_intent(session=session, intent_id=intent.id)
    assert view is not None and view.settled_at is not None and view.held == 0
    cashout, _ = await _cashout(db, "c2", "10.00")
    assert cashout.status == "requested"
    await _tip(db, "t2", "1.00")
    assert await _holdings(db) == {"user": 1400}
    await assert_balanced(db)


async def test_refund_reverses_the_credit_exactly_once(db) -> None:
    intent = await _confirmed(db)
    assert await _clearing(db) == -2500
    # A partial refund while settling, delivered twice, then re-sent as a new event id.
    assert await _event(db, intent, "charge.refunded", 1000, event_id="evt_r1") == "applied"
    assert await _event(db, intent, "charge.refunded", 1000, event_id="evt_r1") == "duplicate"
    assert await _event(db, intent, "charge.refunded", 1000, event_id="evt_r1b") == "ignored"
    assert await _holdings(db) == {"user_settling": 1500}
    assert await _clearing(db) == -1500
    # Stripe's amount_refunded is cumulative: 2500 refunds the other 1500, once.
    assert await _event(db, intent, "charge.refunded", 2500, event_id="evt_r2") == "applied"
    assert await _event(db, intent, "charge.refunded", 2500, event_id="evt_r2") == "duplicate"
    assert await _event(db, intent, "charge.refunded", 9999, event_id="evt_r3") == "mismatch"
    assert await _holdings(db) == {}
    assert await _clearing(db) == 0
    async with db.session() as session:
        view = await get_intent(session=session, intent_id=intent.id)
    assert view is not None and (view.status, view.refunded, view.held) == ("refunded", 2500, 0)
    assert await _settle(db, HOLD * 2) == 1  # nothing left to move, but marked settled
    assert await _holdings(db) == {}
    await assert_balanced(db)


async def test_refund_of_spent_money_becomes_a_receivable_that_freezes_the_payer(db) -> None:
    intent = await _confirmed(db, hold=timedelta(0))  # settled at once
    await _tip(db, "t1", "20.00")
    assert await _holdings(db) == {"user": 500}
    assert await _event(db, intent, "charge.refunded", 2500, event_id="evt_r") == "applied"
    assert await _holdings(db) == {"user_receivable": -2000}  # 5.00 taken back, 20.00 owed
    for attempt in (_tip(db, "t2", "0.01"), _cashout(db, "c1", "0.01")):
        with pytest.raises(BadUserInputError) as frozen:
            await attempt
        assert _reason(frozen) == "ACCOUNT_FROZEN"
    # Money received while frozen stays (it can arrive), but cannot leave either.
    second = await _confirmed(db, key="d2", amount="30.00")
    assert await _holdings(db) == {"user_receivable": -2000, "user_settling": 3000}
    assert await _settle(db, HOLD + timedelta(seconds=1)) == 1
    assert await _holdings(db) == {"user": 1000}  # the debt was repaid first
    await _tip(db, "t3", "1.00")
    assert await _holdings(db) == {"user": 900}
    assert second.amount == 3000
    await assert_balanced(db)


async def test_dispute_freezes_the_amount_and_a_won_close_releases_it(db) -> None:
    intent = await _confirmed(db)  # still settling
    assert await _event(db, intent, "charge.dispute.created", 2500, event_id="evt_d1") == "applied"
    assert await _event(db, intent, "charge.dispute.created", 2500, event_id="evt_d1") == "duplicate"
    assert await _holdings(db) == {"user_disputed": 2500}
    async with db.session() as session:
        view = await get_intent(session=session, intent_id=intent.id)
    assert view is not None and (view.dispute_status, view.disputed) == ("open", 2500)
    # A close that is not final keeps the money frozen.
    assert await _event(db, intent, "charge.dispute.closed", 2500, event_id="evt_d2",
                        status="under_review") == "ignored"
    assert await _holdings(db) == {"user_disputed": 2500}
    assert await _event(db, intent, "charge.dispute.closed", 2500, event_id="evt_d3", status="won") == "applied"
    assert await _event(db, intent, "charge.dispute.closed", 2500, event_id="evt_d3", status="won") == "duplicate"
    assert await _event(db, intent, "charge.dispute.closed", 2500, event_id="evt_d4", status="won") == "ignored"
    assert await _holdings(db) == {"user_settling": 2500}  # back where it was: still settling
    assert await _settle(db, HOLD + timedelta(seconds=1)) == 1
    assert await _holdings(db) == {"user": 2500}
    assert await _clearing(db) == -2500
    await assert_balanced(db)


async def test_lost_dispute_removes_the_amount_and_spent_money_is_owed(db) -> None:
    intent = await _confirmed(db, hold=timedelta(0))
    await _tip(db, "t1", "10.00")
    assert await _event(db, intent, "charge.dispute.created", 2500, event_id="evt_d1") == "applied"
    assert await _holdings(db) == {"user_disputed": 2500, "user_receivable": -1000}
    with pytest.raises(BadUserInputError) as frozen:
        await _tip(db, "t2", "0.01")
    assert _reason(frozen) == "ACCOUNT_FROZEN"
    assert await _event(db, intent, "charge.dispute.closed", 2500, event_id="evt_d2", status="lost") == "applied"
    assert await _event(db, intent, "charge.dispute.closed", 2500, event_id="evt_d2", status="lost") == "duplicate"
    assert await _holdings(db) == {"user_receivable": -1000}
    assert await _clearing(db) == 0  # the money went back to the card holder
    # A refund after a lost dispute cannot take the same money twice.
    assert await _event(db, intent, "charge.refunded", 2500, event_id="evt_r") == "mismatch"
    await assert_balanced(db)


async def test_won_dispute_of_spent_money_cancels_the_debt(db) -> None:
    intent = await _confirmed(db, hold=timedelta(0))
    await _tip(db, "t1", "10.00")
    assert await _event(db, intent, "charge.dispute.created", 2500, event_id="evt_d1") == "applied"
    assert await _event(db, intent, "charge.dispute.closed", 2500, event_id="evt_d2", status="won") == "applied"
    assert await _holdings(db) == {"user": 1500}
    await _tip(db, "t2", "1.00")  # no longer frozen
    await assert_balanced(db)


async def test_stripe_refund_and_dispute_events(db) -> None:
    from subgraphs.wallet.models import PaymentIntent

    async with db.session() as session:
        session.add(PaymentIntent(id="i1", provider="stripe", provider_ref="pi_9", user_id="alice",
                                  currency="USD", amount=2500, status="requires_confirmation"))
        await session.commit()

    def signed(event: dict[str, object]) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(event)
        now = int(time.time())
        return body, {"Stripe-Signature": f"t={now},v1={sign_payload(STRIPE_SECRET, now, body)}"}

    events = [
        {"id": "evt_1", "type": "payment_intent.succeeded",
         "data": {"object": {"id": "pi_9", "object": "payment_intent", "amount": 2500, "currency": "usd"}}},
        {"id": "evt_2", "type": "charge.refunded",
         "data": {"object": {"id": "ch_9", "object": "charge", "payment_intent": "pi_9", "amount": 2500,
                             "amount_refunded": 500, "currency": "usd"}}},
        {"id": "evt_3", "type": "charge.dispute.created",
         "data": {"object": {"id": "dp_9", "object": "dispute", "charge": "ch_9", "payment_intent": "pi_9",
                             "amount": 2000, "currency": "usd", "status": "needs_response"}}},
    ]
    async with _client(db) as client:
        outcomes = []
        for event in events + events[1:2]:
            body, headers = signed(event)
            response = await client.post("/webhooks/stripe", content=body, headers=headers)
            outcomes.append(response.json()["outcome"])
    assert outcomes == ["applied", "applied", "applied", "duplicate"]
    assert await _holdings(db) == {"user_disputed": 2000}
    await assert_balanced(db)


async def test_held_funds_cannot_be_escrowed(db) -> None:
    from subgraphs.wallet.services.escrow import create_hold

    await _confirmed(db)
    with pytest.raises(BadUserInputError) as refused:
        async with db.session() as session:
            await create_hold(session=session, service="social", payer_id="alice", amount=100,
                              currency="USD", reference=None, idempotency_key="h1")
    assert _reason(refused) == "INSUFFICIENT_FUNDS"
    assert await _holdings(db) == {"user_settling": 2500}
