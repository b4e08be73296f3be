"""Escrow through the internal API: the caller's own key, the payer's own credential, idempotency."""

from __future__ import annotations

import httpx

from shared.auth import SigningKeys, TokenIssuer, TokenVerifier
from shared.internal import InternalClient, internal_app
from shared.references import References
from shared.service_auth import ServiceIdentity, ServiceKeyring
from subgraphs.wallet.internal import escrow_routes
from subgraphs.wallet.services.ledger import SystemAccount, balance_of, system_account, user_account
from tests._peers import peer_stack
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries, fund

ISSUER = TokenIssuer(SigningKeys.generate(), issuer="tributary-identity", audience="tributary")
VERIFIER = TokenVerifier.for_issuer(ISSUER)


def _client(db) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    stack = peer_stack()
    stack.add_users("payer", "attacker", "w", "w1", "w2")
    wallet = ServiceIdentity(name="wallet", keys=stack.keys["wallet"])
    references = References(InternalClient(wallet, stack.urls))
    app = internal_app(escrow_routes(database=db, verifier=VERIFIER, api_keys=None,
                                     references=references),
                       keyring=ServiceKeyring(owner="wallet", public_keys=stack.public_keys))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wallet")


def _h(key: str | None = None, *, service: str = "markets", user: str | None = "payer",
       service_keys: SigningKeys | None = None) -> dict[str, str]:
    # a fresh token per request: service tokens are short-lived and the suite can run long
    keys = service_keys or peer_stack().keys[service]
    headers = {"x-service-token": ServiceIdentity(name=service, keys=keys).issue(audience="wallet")}
    if user:
        token = ISSUER.issue_access_token(user_id=user, roles=["USER"])
        headers["x-user-authorization"] = f"Bearer {token}"
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
        bare = await client.post("/internal/escrow/holds", json=body, headers={"idempotency-key": "k"})
        assert bare.status_code == 401
        forged = _h("k", service_keys=SigningKeys.generate())
        assert (await client.post("/internal/escrow/holds", json=body, headers=forged)).status_code == 401
        cases = [
            ({**body, "amountMinor": -5}, "NOT_POSITIVE"),
            ({**body, "amountMinor": 0}, "NOT_POSITIVE"),
            ({**body, "amountMinor": "100"}, "INVALID_AMOUNT"),
            ({**body, "amountMinor": 2**63}, "TOO_LARGE"),
            ({**body, "amountMinor": 5_000}, "INSUFFICIENT_FUNDS"),
            ({**body, "currency": "DOGE"}, "UNKNOWN_CURRENCY"),
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
        ghost = await client.post(f"/internal/escrow/holds/{hold['id']}/capture", headers=_h("c2"),
                                  json={"captures": [{"recipientId": "ghost-user", "amountMinor": 50}]})
        assert ghost.status_code == 404 and ghost.json()["error"]["ids"] == ["ghost-user"]
        missing = await client.post("/internal/escrow/holds/nope/release", headers=_h("x"))
        assert missing.status_code == 404
    assert await count_entries(db) == 2  # the fund and the one good hold
    assert await _bal(db, "escrow") == 100
    await assert_balanced(db)


async def test_the_escrow_drain_is_refused(db) -> None:
    """A service credential alone cannot move a user's money, nor can another user's token."""
    await fund(db, "payer", 1_000)
    body = {"payerId": "payer", "amountMinor": 900, "currency": "USD"}
    async with _client(db) as client:
        no_proof = await client.post("/internal/escrow/holds", json=body, headers=_h("a1", user=None))
        assert no_proof.status_code == 401
        assert no_proof.json()["error"]["reason"] == "USER_PROOF_REQUIRED"
        # markets with the attacker's own token, naming the victim as payer
        mismatch = await client.post("/internal/escrow/holds", json=body, headers=_h("a2", user="attacker"))
        assert mismatch.status_code == 403 and mismatch.json()["error"]["reason"] == "PAYER_MISMATCH"
        # another service's real credential, with the victim's real token
        social = await client.post("/internal/escrow/holds", json=body, headers=_h("a3", service="social"))
        assert social.status_code == 403 and social.json()["error"]["code"] == "FORBIDDEN"
        # the payer defaults to the credential's user: the attacker can only hold their own money
        own = await client.post("/internal/escrow/holds", json={"amountMinor": 900, "currency": "USD"},
                                headers=_h("a4", user="attacker"))
        assert own.json()["error"]["reason"] == "INSUFFICIENT_FUNDS"
    assert (await _bal(db, "payer"), await _bal(db, "escrow")) == (1_000, 0)
    assert await count_entries(db) == 1
