"""Deposits: payment intents, signed webhooks (sandbox and Stripe), replays and tampering."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import orjson
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from shared.errors import BadUserInputError, ConflictError
from subgraphs.wallet.models import PaymentIntent, WebhookEvent
from subgraphs.wallet.services.deposits import create_deposit, get_intent
from subgraphs.wallet.services.ledger import balances_of_user
from subgraphs.wallet.services.providers import SandboxProvider, StripeProvider, sign_payload
from subgraphs.wallet.webhooks import webhook_routes
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries

SECRET = "sandbox-secret-for-tests-0123456789"
STRIPE_SECRET = "whsec_test_0123456789abcdef"
sandbox = SandboxProvider(webhook_secret=SECRET, tolerance=300)
stripe = StripeProvider(webhook_secret=STRIPE_SECRET, tolerance=300)


def _client(db, clock=time.time, hold=timedelta(0)) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    # No settlement hold unless a test asks for one: these tests are about the webhooks.
    app = Starlette(routes=webhook_routes(database=db, providers={"sandbox": sandbox, "stripe": stripe},
                                          settlement_hold=hold, clock=clock))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wallet")


async def _deposit(db, key="d1", amount="25.00", user="alice"):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await create_deposit(
            session=session, provider=sandbox, user_id=user, amount=amount, currency="USD",
            idempotency_key=key,
        )


async def _balance(db, user="alice") -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await balances_of_user(session, user)


async def test_webhook_confirms_deposit_once(db) -> None:
    intent = await _deposit(db)
    assert intent.status == "requires_confirmation" and intent.amount == 2500
    assert (await _deposit(db)).id == intent.id  # idempotent create
    assert await _balance(db) == {}
    body, headers = sandbox.build_webhook(intent_ref=intent.provider_ref, amount=2500, currency="USD")
    async with _client(db) as client:
        first = await client.post("/webhooks/sandbox", content=body, headers=headers)
        again = await client.post("/webhooks/sandbox", content=body, headers=headers)
    assert first.status_code == 200 and first.json()["outcome"] == "applied"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert await _balance(db) == {"USD": 2500}
    async with db.session() as session:
        assert (await get_intent(session=session, intent_id=intent.id)).status == "succeeded"
    # A second, different success event for the same intent credits nothing more.
    body2, headers2 = sandbox.build_webhook(intent_ref=intent.provider_ref, amount=2500, currency="USD")
    async with _client(db) as client:
        late = await client.post("/webhooks/sandbox", content=body2, headers=headers2)
    assert late.json()["outcome"] == "ignored"
    assert await _balance(db) == {"USD": 2500}
    assert await count_entries(db) == 2  # the credit into settling, and its settlement (no hold)
    await assert_balanced(db)


async def test_concurrent_redeliveries_credit_once(db) -> None:
    intent = await _deposit(db)
    body, headers = sandbox.build_webhook(intent_ref=intent.provider_ref, amount=2500, currency="USD")
    async with _client(db) as client:
        responses = await asyncio.gather(
            *[client.post("/webhooks/sandbox", content=body, headers=headers) for _ in range(10)]
        )
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["applied"] + ["duplicate"] * 9
    assert await _balance(db) == {"USD": 2500}
    await assert_balanced(db)


async def test_tampered_stale_and_unsigned_webhooks_are_refused(db) -> None:
    intent = await _deposit(db)
    body, headers = sandbox.build_webhook(intent_ref=intent.provider_ref, amount=2500, currency="USD")
    tampered = body.replace(b"2500", b"9500")
    stale_body, stale_headers = sandbox.build_webhook(
        intent_ref=intent.provider_ref, amount=2500, currency="USD", timestamp=int(time.time()) - 3600
    )
    forged = SandboxProvider(webhook_secret="not-the-right-secret-000").build_webhook(
        intent_ref=intent.provider_ref, amount=2500, currency="USD"
    )
    ts = int(time.time())
    async with _client(db) as client:
        cases = [
            (tampered, headers),
            (stale_body, stale_headers),
            forged,
            (body, {"content-type": "application/json"}),
            (body, {"sandbox-signature": "garbage"}),
            (b"not json", {"sandbox-signature": f"t={ts},v1=" + sign_payload(SECRET, ts, b"not json")}),
        ]
        for case_body, case_headers in cases:
            response = await client.post("/webhooks/sandbox", content=case_body, headers=case_headers)
            assert response.status_code == 400, response.text
        missing = await client.post("/webhooks/nope", content=body, headers=headers)
        assert missing.status_code == 404
        huge = await client.post("/webhooks/sandbox", content=b"x" * (300 * 1024), headers=headers)
        assert huge.status_code == 413
    assert await _balance(db) == {}
    async with db.session() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(WebhookEvent))).scalar_one() == 0
    assert await count_entries(db) == 0


async def test_unknown_intent_and_mismatch_are_recorded_not_credited(db) -> None:
    intent = await _deposit(db)
    unknown, uh = sandbox.build_webhook(intent_ref="pi_sbx_nobody", amount=100, currency="USD")
    wrong, wh = sandbox.build_webhook(intent_ref=intent.provider_ref, amount=9999, currency="USD")
    failed, fh = sandbox.build_webhook(
        intent_ref=intent.provider_ref, amount=2500, currency="USD",
        event_type="payment_intent.payment_failed",
    )
    async with _client(db) as client:
        assert (await client.post("/webhooks/sandbox", content=unknown, headers=uh)).json()["outcome"] == "unknown_intent"
        assert (await client.post("/webhooks/sandbox", content=wrong, headers=wh)).json()["outcome"] == "mismatch"
        assert (await client.post("/webhooks/sandbox", content=failed, headers=fh)).json()["outcome"] == "failed"
    async with db.session() as session:
        rows = (await session.execute(sa.select(WebhookEvent.outcome, WebhookEvent.intent_ref).order_by(WebhookEvent.id))).all()
        status = (await session.execute(sa.select(PaymentIntent.status))).scalar_one()
    assert rows == [("unknown_intent", "pi_sbx_nobody"), ("mismatch", intent.provider_ref), ("failed", intent.provider_ref)]
    assert status == "failed"
    assert await _balance(db) == {}
    assert await count_entries(db) == 0


def _stripe_event(ref: str, *, event_id: str = "evt_1", amount: int = 2500) -> bytes:
    return orjson.dumps({"id": event_id, "type": "payment_intent.succeeded",
                         "data": {"object": {"id": ref, "amount": amount, "currency": "usd"}}})


async def test_stripe_signature_scheme(db) -> None:
    async with db.session() as session:
        session.add(PaymentIntent(id="i1", provider="stripe", provider_ref="pi_123", user_id="alice",
                                  currency="USD", amount=2500, status="requires_confirmation"))
        await session.commit()
    body = _stripe_event("pi_123")
    now = int(time.time())
    good = f"t={now},v0=ignored,v1=deadbeef,v1={sign_payload(STRIPE_SECRET, now, body)}"
    # A fixed server clock: the tolerance edges below are exact, however slow the machine.
    async with _client(db, clock=lambda: float(now)) as client:
        for header in (
            f"t={now},v1={sign_payload('whsec_other', now, body)}",
            f"t={now - 301},v1={sign_payload(STRIPE_SECRET, now - 301, body)}",
            f"t={now + 301},v1={sign_payload(STRIPE_SECRET, now + 301, body)}",
            f"v1={sign_payload(STRIPE_SECRET, now, body)}",
            f"t={now},v0={sign_payload(STRIPE_SECRET, now, body)}",
        ):
            refused = await client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
            assert refused.status_code == 400, header
        ok = await client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": good})
        dup = await client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": good})
    assert ok.json()["outcome"] == "applied" and dup.json()["outcome"] == "duplicate"
    assert await _balance(db) == {"USD": 2500}
    await assert_balanced(db)


async def test_deposit_bad_input(db) -> None:
    for kwargs in ({"amount": "-5"}, {"amount": "0"}, {"key": None}):
        with pytest.raises(BadUserInputError):
            await _deposit(db, **kwargs)
    await _deposit(db, key="k", amount="1.00")
    with pytest.raises(ConflictError):
        await _deposit(db, key="k", amount="2.00")
