"""The Stripe adapter's REST call, against a local HTTP stand-in (Stripe is unreachable here)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.testing import serve_app
from subgraphs.wallet.services.providers import StripeProvider


def _stand_in(seen: list[dict[str, object]]) -> Starlette:
    async def create(request: Request) -> JSONResponse:
        form = dict(await request.form())
        seen.append({"form": form, "auth": request.headers.get("authorization"),
                     "key": request.headers.get("idempotency-key")})
        if form.get("amount") == "13":
            return JSONResponse({"error": {"message": "amount_too_small"}}, status_code=400)
        return JSONResponse({"id": "pi_test_1", "client_secret": "pi_test_1_secret_x"})

    return Starlette(routes=[Route("/v1/payment_intents", create, methods=["POST"])])


async def test_create_intent_posts_the_stripe_form() -> None:
    seen: list[dict[str, object]] = []
    async with serve_app(_stand_in(seen)) as base:
        stripe = StripeProvider(webhook_secret="whsec_x", api_key="sk_test_123", api_base=base)
        intent = await stripe.create_intent(intent_id="w1", amount=2500, currency="USD", idempotency_key="u:k")
        with pytest.raises(RuntimeError, match="refused"):
            await stripe.create_intent(intent_id="w2", amount=13, currency="USD", idempotency_key="u:k2")
    assert (intent.provider_ref, intent.client_secret) == ("pi_test_1", "pi_test_1_secret_x")
    assert seen[0] == {
        "form": {"amount": "2500", "currency": "usd", "metadata[wallet_intent_id]": "w1"},
        "auth": "Bearer sk_test_123",
        "key": "u:k",
    }


async def test_create_intent_needs_an_api_key() -> None:
    with pytest.raises(RuntimeError, match="API key"):
        await StripeProvider(webhook_secret="whsec_x").create_intent(
            intent_id="w", amount=1, currency="USD", idempotency_key="k")
