"""Two-step verification through the real app: TOTP with hashed recovery codes, sign-ins that
need the second factor, and step-up before API keys and contact changes."""

from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa

from tests.subgraphs.identity.resolvers.test_codes import (
    PHONE,
    error_of,
    outbox_code,
    request,
    sign_in,
)

GOOD = "Correct-Horse-42"
LOGIN = "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken refreshToken } }"
SETUP = "mutation { setupTotp { secret otpauthUri } }"
ENABLE = "mutation($c: String!) { enableTotp(code: $c) }"
DISABLE = "mutation($c: String!) { disableTotp(code: $c) }"
COMPLETE = "mutation($t: String!, $c: String!) { completeSignIn(secondFactorToken: $t, code: $c) { accessToken refreshToken user { handle } } }"
STEP_UP = "mutation($c: String!) { stepUp(code: $c) { expiresIn } }"
CREATE_KEY = 'mutation { createApiKey(name: "ci", scopes: ["read"]) { secret } }'
CHANGE_EMAIL = 'mutation { requestEmailChange(email: "new@example.org") { destination } }'


def later_code(secret: str, steps: int = 1) -> str:
    # A code of a later 30-second step (inside the accepted window): a used one never passes.
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


async def enable(api, token: str) -> tuple[str, list[str]]:
    setup = (await api(SETUP, token=token))["data"]["setupTotp"]
    body = await api(ENABLE, {"c": pyotp.TOTP(setup["secret"]).now()}, token=token)
    assert "errors" not in body, body
    return setup["secret"], body["data"]["enableTotp"]


async def pending_login(api, who: str = "alice") -> str:
    error = error_of(await api(LOGIN, {"l": who, "p": GOOD}))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["reason"] == "SECOND_FACTOR_REQUIRED"
    assert error["extensions"]["expiresIn"] == 300
    return error["extensions"]["secondFactorToken"]


async def test_enable_totp_and_recovery_codes_are_hashed(api, database):
    token = (await api.register("alice"))["accessToken"]
    setup = (await api(SETUP, token=token))["data"]["setupTotp"]
    assert re.fullmatch(r"[A-Z2-7]{32}", setup["secret"])
    assert setup["otpauthUri"].startswith("otpauth://totp/Tributary:alice?secret=")
    assert "issuer=Tributary" in setup["otpauthUri"]
    wrong = error_of(await api(ENABLE, {"c": "12345x"}, token=token))
    assert wrong["extensions"] == {"code": "UNAUTHENTICATED", "reason": "CODE_INVALID"}
    body = await api(ENABLE, {"c": pyotp.TOTP(setup["secret"]).now()}, token=token)
    codes = body["data"]["enableTotp"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    async with database.engine.connect() as conn:
        stored = [r.code_hash for r in await conn.execute(
            sa.text("SELECT code_hash FROM identity_recovery_codes"))]
        seed = (await conn.execute(sa.text("SELECT secret FROM identity_totp_factors"))).scalar_one()
    # The seed is sealed at rest, not stored as given out.
    assert setup["secret"] not in seed and seed.startswith("v1:")
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & set(stored)
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in stored)
    again = error_of(await api(SETUP, token=token))
    assert again["extensions"] == {"code": "CONFLICT", "reason": "ALREADY_ENABLED"}
    no_setup = error_of(await api(ENABLE, {"c": "123456"}, token=(await api.register("bob"))["accessToken"]))
    assert no_setup["extensions"]["reason"] == "NO_PENDING_SETUP"


async def test_password_sign_in_needs_the_second_factor(api, count_rows):
    token = (await api.register("alice"))["accessToken"]
    secret, _ = await enable(api, token)
    before = await count_rows()
    pending = await pending_login(api)
    # No session was started by the password alone.
    assert (await count_rows())["identity_refresh_tokens"] == before["identity_refresh_tokens"]
    # The code that enabled TOTP cannot be replayed.
    replay = error_of(await api(COMPLETE, {"t": pending, "c": pyotp.TOTP(secret).now()}))
    assert replay["extensions"]["reason"] == "CODE_INVALID"
    done = await api(COMPLETE, {"t": pending, "c": later_code(secret)})
    session = done["data"]["completeSignIn"]
    assert session["user"] == {"handle": "alice"}
    assert (await api("{ me { handle } }", token=session["accessToken"]))["data"]["me"] == {
        "handle": "alice"}
    # The pending sign-in works once.
    spent = error_of(await api(COMPLETE, {"t": pending, "c": later_code(secret, 2)}))
    assert spent["extensions"] == {"code": "UNAUTHENTICATED", "reason": "SECOND_FACTOR_EXPIRED"}


async def test_recovery_codes_work_once(api):
    token = (await api.register("alice"))["accessToken"]
    _, codes = await enable(api, token)
    first = await api(COMPLETE, {"t": await pending_login(api), "c": codes[0].upper()})
    assert "errors" not in first, first
    reused = error_of(await api(COMPLETE, {"t": await pending_login(api), "c": codes[0]}))
    assert reused["extensions"]["reason"] == "CODE_INVALID"
    assert "errors" not in await api(COMPLETE, {"t": await pending_login(api), "c": codes[1]})


async def test_five_wrong_second_factors_end_the_pending_sign_in(api):
    token = (await api.register("alice"))["accessToken"]
    secret, _ = await enable(api, token)
    pending = await pending_login(api)
    for _ in range(5):
        wrong = error_of(await api(COMPLETE, {"t": pending, "c": "aaaa-bbbb-cccc"}))
        assert wrong["extensions"]["reason"] == "CODE_INVALID"
    ended = error_of(await api(COMPLETE, {"t": pending, "c": later_code(secret)}))
    assert ended["extensions"]["reason"] == "SECOND_FACTOR_EXPIRED"
    bogus = error_of(await api(COMPLETE, {"t": "sf_nope", "c": later_code(secret)}))
    assert bogus["extensions"]["reason"] == "SECOND_FACTOR_EXPIRED"


async def test_code_sign_in_needs_the_second_factor_too(api):
    await request(api, "SMS", PHONE)
    first = (await sign_in(api, "SMS", PHONE, outbox_code(api, PHONE), handle="phoney"))
    secret, _ = await enable(api, first["data"]["signInWithCode"]["accessToken"])
    await request(api, "SMS", PHONE)
    code = outbox_code(api, PHONE)
    error = error_of(await sign_in(api, "SMS", PHONE, code))
    assert error["extensions"]["reason"] == "SECOND_FACTOR_REQUIRED"
    # The phone code was spent by that first step.
    assert error_of(await sign_in(api, "SMS", PHONE, code))["extensions"]["reason"] == "CODE_INVALID"
    done = await api(COMPLETE, {"t": error["extensions"]["secondFactorToken"],
                                "c": later_code(secret)})
    assert done["data"]["completeSignIn"]["user"] == {"handle": "phoney"}


async def test_step_up_guards_api_keys_and_contact_changes(api):
    await api.register("alice", email="alice@example.org")
    # A session started before two-step was turned on has no fresh second factor.
    older = (await api(LOGIN, {"l": "alice", "p": GOOD}))["data"]["login"]["accessToken"]
    enabling = (await api(LOGIN, {"l": "alice", "p": GOOD}))["data"]["login"]["accessToken"]
    secret, recovery = await enable(api, enabling)
    for query in (CREATE_KEY, CHANGE_EMAIL):
        refused = error_of(await api(query, token=older))
        assert refused["extensions"] == {"code": "UNAUTHENTICATED", "reason": "STEP_UP_REQUIRED"}
    # Turning two-step on was itself a fresh second factor for that session.
    assert "errors" not in await api(CREATE_KEY, token=enabling)
    bad = error_of(await api(STEP_UP, {"c": "000000"}, token=older))
    assert bad["extensions"]["reason"] == "CODE_INVALID"
    assert (await api(STEP_UP, {"c": later_code(secret)}, token=older))["data"] == {
        "stepUp": {"expiresIn": 600}}
    assert "errors" not in await api(CREATE_KEY, token=older)
    assert (await api(CHANGE_EMAIL, token=older))["data"]["requestEmailChange"] == {
        "destination": "n***@example.org"}
    # A sign-in completed with the second factor starts stepped up.
    fresh = (await api(COMPLETE, {"t": await pending_login(api), "c": recovery[0]}))
    assert "errors" not in await api(CREATE_KEY, token=fresh["data"]["completeSignIn"]["accessToken"])


async def test_disable_totp(api):
    token = (await api.register("alice"))["accessToken"]
    secret, codes = await enable(api, token)
    wrong = error_of(await api(DISABLE, {"c": "000000"}, token=token))
    assert wrong["extensions"]["reason"] == "CODE_INVALID"
    assert (await api(DISABLE, {"c": codes[3]}, token=token))["data"] == {"disableTotp": True}
    assert "errors" not in await api(LOGIN, {"l": "alice", "p": GOOD})
    not_on = error_of(await api(STEP_UP, {"c": later_code(secret)}, token=token))
    assert not_on["extensions"] == {"code": "BAD_USER_INPUT", "field": "code",
                                    "reason": "NOT_ENABLED"}


async def test_api_keys_cannot_manage_two_step(api):
    token = (await api.register("alice"))["accessToken"]
    key = (await api(CREATE_KEY, token=token))["data"]["createApiKey"]["secret"]
    for query, variables in ((SETUP, {}), (STEP_UP, {"c": "123456"})):
        assert error_of(await api(query, variables, api_key=key))["extensions"]["code"] == "FORBIDDEN"


async def test_wrong_second_factors_are_limited_per_address(app_factory, kv):
    async with app_factory(kv=kv, code_failure_limit_per_ip=2) as api:
        token = (await api.register("alice"))["accessToken"]
        secret, _ = await enable(api, token)
        for _ in range(2):
            assert error_of(await api(STEP_UP, {"c": "000000"}, token=token))["extensions"][
                "reason"] == "CODE_INVALID"
        limited = error_of(await api(STEP_UP, {"c": later_code(secret)}, token=token))
        assert limited["extensions"]["code"] == "RATE_LIMITED"


async def test_wallet_sign_in_needs_the_second_factor_and_spends_the_nonce(api):
    from tests.subgraphs.identity.resolvers.test_mutations import (
        CHALLENGE,
        ethereum_wallet,
    )
    from tests.subgraphs.identity.resolvers.test_mutations import SIGN_IN as WALLET_SIGN_IN

    chain, address, sign = ethereum_wallet()
    c = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
    first = (await api(WALLET_SIGN_IN, {"n": c["nonce"], "s": sign(c["message"])}))["data"]
    secret, _ = await enable(api, first["signInWithWallet"]["accessToken"])
    c2 = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
    error = error_of(await api(WALLET_SIGN_IN, {"n": c2["nonce"], "s": sign(c2["message"])}))
    assert error["extensions"]["reason"] == "SECOND_FACTOR_REQUIRED"
    replay = error_of(await api(WALLET_SIGN_IN, {"n": c2["nonce"], "s": sign(c2["message"])}))
    assert replay["extensions"]["reason"] == "NONCE_REUSED"
    done = await api(COMPLETE, {"t": error["extensions"]["secondFactorToken"],
                                "c": later_code(secret)})
    assert done["data"]["completeSignIn"]["user"] == {
        "handle": first["signInWithWallet"]["user"]["handle"]}
