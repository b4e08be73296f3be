"""Escrow through the internal HTTP API: service auth, hold/capture/release, idempotency."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from shared.auth import ServiceTokens
from subgraphs.wallet.internal import escrow_routes
from subgraphs.wallet.services.ledger import SystemAccount, balance_of, system_account, user_account
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries, fund

SECRET = "service-secret-for-wallet-tests-0123456789"


def _client(db, secret: str | None = SECRET) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    app = Starlette(routes=escrow_routes(database=db, service_token_secret=secret))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wallet")


def _h(key: str | None = None, token: str | None = None) -> dict[str, str]:
    # a fresh token per request: service tokens are short-lived and the suite can run long
    headers = {"authorization": f"Bearer {token or ServiceTokens(SECRET).issue('markets')}"}
    if key:
        headers["idempotency-key"] = key
    return headers


async def _bal(db, owner: str) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        if owner == "escrow":
            return await balance_of(session, system_account(SystemAccount.ESCROW_HOLDS, "USD"))
        if owner == "fees":
            return await balance_of(session, system_account(SystemAccount.FEES, "USD"))
        return await balance_of(session, user_account(owner, "USD"))


async def test_hold_then_capture_to_several_recipients(db) -> None:
    await fund(db, "payer", 10_000)
    async with _client(db) as client:
        held = await client.post("/internal/escrow/holds", headers=_h("h1"),
                                 json={"payerId": "payer", "amountMinor": 5_000, "currency": "USD", "reference": "market:1"})
        assert held.status_code == 200, held.text
        hold = held.json()
        assert hold["status"] == "held" and hold["amountMinor"] == 5_000
        again = await client.post("/internal/escrow/holds", headers=_h("h1"),
                                  json={"payerId": "payer", "amountMinor": 5_000, "currency": "USD", "reference": "market:1"})
        assert again.json()["id"] == hold["id"]
        assert (await _bal(db, "payer"), await _bal(db, "escrow")) == (5_000, 5_000)
        body = {"captures": [{"recipientId": "w1", "amountMinor": 3_000},
                             {"recipientId": "w2", "amountMinor": 1_500}], "feeMinor": 100}
        captured = await client.post(f"/internal/escrow/holds/{hold['id']}/capture", headers=_h("c1"), json=body)
        assert captured.status_code == 200, captured.text
        assert captured.json()["status"] == "captured"
        replay = await client.post(f"/internal/escrow/holds/{hold['id']}/capture", headers=_h("c1"), json=body)
        assert replay.json() == captured.json()
        late = await client.post(f"/internal/escrow/holds/{hold['id']}/release", headers=_h("r1"))
        assert late.status_code == 409 and late.json()["error"]["code"] == "CONFLICT"
        shown = await client.get(f"/internal/escrow/holds/{hold['id']}", headers=_h())
        assert shown.json()["capturedMinor"] == 4_600 and shown.json()["releasedMinor"] == 400
    assert [await _bal(db, o) for o in ("payer", "w1", "w2", "fees", "escrow")] == [5_400, 3_000, 1_500, 100, 0]
    assert await count_entries(db) == 3
    await assert_balanced(db)


async def test_release_returns_everything_once(db) -> None:
    await fund(db, "payer", 1_000)
    async with _client(db) as client:
        hold = (await client.post("/internal/escrow/holds", headers=_h("h"),
                                  json={"payerId": "payer", "amountMinor": 700, "currency": "USD"})).json()
        first = await client.post(f"/internal/escrow/holds/{hold['id']}/release", headers=_h("r"))
        second = await client.post(f"/internal/escrow/holds/{hold['id']}/release", headers=_h("r"))
        other_key = await client.post(f"/internal/escrow/holds/{hold['id']}/release", headers=_h("r2"))
    assert first.json()["status"] == "released" and second.json() == first.json()
    assert other_key.status_code == 409
    assert (await _bal(db, "payer"), await _bal(db, "escrow")) == (1_000, 0)
    await assert_balanced(db)


async def test_auth_and_bad_requests(db) -> None:
    await fund(db, "payer", 1_000)
    body = {"payerId": "payer", "amountMinor": 100, "currency": "USD"}
    async with _client(db) as client:
        assert (await client.post("/internal/escrow/holds", json=body, headers={"idempotency-key": "k"})).status_code == 401
        forged = ServiceTokens("some-other-secret-value-0123456789abcdef").issue("markets")
        assert (await client.post("/internal/escrow/holds", json=body, headers=_h("k", forged))).status_code == 401
        assert (await client.post("/internal/escrow/holds", json=body, headers=_h("k", "not-a-jwt"))).status_code == 401
        cases = [
            ({**body, "amountMinor": -5}, "NOT_POSITIVE"),
            ({**body, "amountMinor": 0}, "NOT_POSITIVE"),
            ({**body, "amountMinor": "100"}, "INVALID_AMOUNT"),
            ({**body, "amountMinor": 2**63}, "TOO_LARGE"),
            ({**body, "amountMinor": 5_000}, "INSUFFICIENT_FUNDS"),
            ({**body, "currency": "DOGE"}, "UNKNOWN_CURRENCY"),
            ({**body, "payerId": None}, "INVALID_ID"),
        ]
        for case, reason in cases:
            response = await client.post("/internal/escrow/holds", json=case, headers=_h(f"k-{reason}"))
            assert response.status_code == 400, (case, response.text)
            assert response.json()["error"]["reason"] == reason
        no_key = await client.post("/internal/escrow/holds", json=body, headers=_h())
        assert no_key.json()["error"]["reason"] == "MISSING_IDEMPOTENCY_KEY"
        not_json = await client.post("/internal/escrow/holds", content=b"{", headers=_h("j"))
        assert not_json.status_code == 400
        huge = await client.post("/internal/escrow/holds", content=b" " * (100 * 1024), headers=_h("big"))
        assert huge.status_code == 400 and huge.json()["error"]["reason"] == "TOO_LARGE"
        hold = (await client.post("/internal/escrow/holds", json=body, headers=_h("ok"))).json()
        too_much = await client.post(f"/internal/escrow/holds/{hold['id']}/capture", headers=_h("c"),
                                     json={"captures": [{"recipientId": "w", "amountMinor": 101}]})
        assert too_much.json()["error"]["reason"] == "EXCEEDS_HOLD"
        other_service = ServiceTokens(SECRET).issue("bounties")
        hidden = await client.get(f"/internal/escrow/holds/{hold['id']}", headers=_h(None, other_service))
        assert hidden.status_code == 404
        missing = await client.post("/internal/escrow/holds/nope/release", headers=_h("x"))
        assert missing.status_code == 404
    async with _client(db, secret=None) as disabled:
        assert (await disabled.post("/internal/escrow/holds", json=body, headers=_h("z"))).status_code == 401
    assert await count_entries(db) == 2  # the fund and the one good hold
    await assert_balanced(db)
