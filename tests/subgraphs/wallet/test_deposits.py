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
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.errors import BadUserInputError, ConflictError, ServiceUnavailableError
from shared.testing import serve_app
from subgraphs.wallet.models import PaymentIntent, WebhookEvent, utcnow
from subgraphs.wallet.services.deposits import create_deposit, get_intent, recover_intents
from subgraphs.wallet.services.ledger import balances_of_user
from subgraphs.wallet.services.providers import SandboxProvider, StripeProvider, sign_payload
from subgraphs.wallet.webhooks import webhook_routes
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries, database_state

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


# --- No provider call inside a database transaction -------------------------------------------


def _stripe_stand_in(db, seen: list[dict[str, object]], *, mode: list[str], release: asyncio.Event) -> Starlette:  # type: ignore[no-untyped-def]
    """Stripe on loopback: before answering, it looks at the wallet's database."""

    async def create(request: Request) -> JSONResponse:
        form = dict(await request.form())
        state = await database_state(db, "wallet_payment_intents", str(form["metadata[wallet_intent_id]"]))
        seen.append({**state, "key": request.headers.get("idempotency-key"), "mode": mode[0]})
        if mode[0] == "hang":
            await release.wait()  # longer than the adapter waits
        if mode[0] == "fail":
            return JSONResponse({"error": {"message": "internal"}}, status_code=500)
        if mode[0] == "refuse":
            return JSONResponse({"error": {"message": "amount_too_small"}}, status_code=400)
        ref = "pi_" + str(form["metadata[wallet_intent_id]"])[:12]
        return JSONResponse({"id": ref, "client_secret": f"{ref}_secret"})

    return Starlette(routes=[Route("/v1/payment_intents", create, methods=["POST"])])


async def _stripe_deposit(db, provider: StripeProvider, key: str, amount: str = "25.00"):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await create_deposit(session=session, provider=provider, user_id="alice", amount=amount,
                                    currency="USD", idempotency_key=key)


async def test_provider_is_called_after_the_intent_commits_with_no_transaction_open(db) -> None:
    seen: list[dict[str, object]] = []
    mode, release = ["ok"], asyncio.Event()
    async with serve_app(_stripe_stand_in(db, seen, mode=mode, release=release)) as base:
        provider = StripeProvider(webhook_secret=STRIPE_SECRET, api_key="sk_test_1", api_base=base, timeout=0.5)
        intent = await _stripe_deposit(db, provider, "k1")
        again = await _stripe_deposit(db, provider, "k1")  # replay: the provider is not asked again
    assert intent.status == "requires_confirmation" and intent.provider_ref == "pi_" + intent.id[:12]
    assert again.id == intent.id and len(seen) == 1
    assert seen == [{"status": "creating", "open_transactions": 0, "row_locked": False, "key": "alice:k1",
                     "mode": "ok"}]


async def test_provider_that_hangs_or_fails_leaves_nothing_open_and_is_completed_later(db) -> None:
    seen: list[dict[str, object]] = []
    mode, release = ["hang"], asyncio.Event()
    async with serve_app(_stripe_stand_in(db, seen, mode=mode, release=release)) as base:
        provider = StripeProvider(webhook_secret=STRIPE_SECRET, api_key="sk_test_1", api_base=base, timeout=0.5)
        with pytest.raises(ServiceUnavailableError) as hung:
            await _stripe_deposit(db, provider, "k1")
        release.set()
        assert hung.value.extensions["reason"] == "PROVIDER_UNAVAILABLE"
        intent_id = hung.value.extensions["depositId"]
        mode[0] = "fail"
        with pytest.raises(ServiceUnavailableError):
            await _stripe_deposit(db, provider, "k1")  # the same key asks again: HTTP 500 this time
        async with db.session() as session:
            stuck = await get_intent(session=session, intent_id=intent_id)
        assert stuck is not None and (stuck.status, stuck.provider_ref) == ("creating", None)
        # The sweep completes what the request could not, with the same provider key.
        mode[0] = "ok"
        async with db.session() as session:
            assert await recover_intents(session=session, providers={"stripe": provider}) == 0  # too recent
            assert await recover_intents(session=session, providers={"stripe": provider},
                                         now=utcnow() + timedelta(minutes=2)) == 1
            done = await get_intent(session=session, intent_id=intent_id)
        assert done is not None and done.status == "requires_confirmation"
        # A refusal is final: the intent fails, the caller gets a coded error.
        mode[0] = "refuse"
        with pytest.raises(BadUserInputError) as refused:
            await _stripe_deposit(db, provider, "k2", amount="0.13")
        assert refused.value.extensions["reason"] == "PROVIDER_REFUSED"
    assert [s["mode"] for s in seen] == ["hang", "fail", "ok", "refuse"]
    assert {s["key"] for s in seen[:3]} == {"alice:k1"}
    for state in seen:  # every call saw its intent committed and no transaction or lock open
        assert (state["status"], state["open_transactions"], state["row_locked"]) == ("creating", 0, False)
    assert await count_entries(db) == 0


async def test_confirmation_for_an_intent_whose_answer_was_lost_is_applied(db) -> None:
    # The process died after Stripe created the intent and before it recorded the answer:
    # the webhook's metadata names our intent, so the payment is not lost as unknown.
    async with db.session() as session:
        session.add(PaymentIntent(id="w1", provider="stripe", provider_key="alice:k", user_id="alice",
                                  currency="USD", amount=2500, status="creating"))
        await session.commit()
    body = orjson.dumps({"id": "evt_lost", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_lost", "amount": 2500, "currency": "usd", "metadata": {"wallet_intent_id": "w1"}}}})
    now = int(time.time())
    async with _client(db) as client:
        response = await client.post("/webhooks/stripe", content=body, headers={
            "Stripe-Signature": f"t={now},v1={sign_payload(STRIPE_SECRET, now, body)}"})
    assert response.json()["outcome"] == "applied"
    async with db.session() as session:
        intent = await get_intent(session=session, intent_id="w1")
    assert intent is not None and (intent.status, intent.provider_ref) == ("succeeded", "pi_lost")
    assert await _balance(db) == {"USD": 2500}
    await assert_balanced(db)
