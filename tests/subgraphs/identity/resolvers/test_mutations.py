"""Mutations through the real app, tried as a new user would; every failure coded, nothing half-written."""

from __future__ import annotations

import base58
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct

from shared.auth import SigningKeys
from shared.service_auth import ServiceIdentity, public_key_text

REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
GOOD = "Correct-Horse-42"


def error_of(body):
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


@pytest.mark.parametrize(
    ("handle", "password", "email", "code", "field"),
    [
        ("alice", "weak", None, "BAD_USER_INPUT", "password"),
        ("alice", "password1234", None, "BAD_USER_INPUT", "password"),
        ("a", GOOD, None, "BAD_USER_INPUT", "handle"),
        ("alice'; DROP TABLE identity_users;--", GOOD, None, "BAD_USER_INPUT", "handle"),
        ("alice", GOOD, "' OR 1=1 --", "BAD_USER_INPUT", "email"),
        ("h" * 1_000_000, GOOD, None, "BAD_USER_INPUT", "handle"),
        ("alice", "p" * 1_000_000, None, "BAD_USER_INPUT", "password"),
        ("alice", GOOD, "e" * 1_000_000, "BAD_USER_INPUT", "email"),
    ],
)
async def test_register_bad_input_is_coded_and_writes_nothing(api, count_rows, handle, password, email, code, field):
    body = await api(REGISTER, {"i": {"handle": handle, "password": password, "email": email}})
    error = error_of(body)
    assert error["extensions"]["code"] == code
    assert error["extensions"]["field"] == field
    assert len(error["message"]) < 200
    assert all(n == 0 for n in (await count_rows()).values())


async def test_duplicate_handle_is_conflict(api, count_rows):
    await api.register("alice")
    before = await count_rows()
    error = error_of(await api(REGISTER, {"i": {"handle": "Alice", "password": GOOD}}))
    assert error["message"] == "Handle 'Alice' is already taken."
    assert error["extensions"] == {"field": "handle", "code": "CONFLICT"}
    assert await count_rows() == before


async def test_body_over_the_limit_is_payload_too_large(api, count_rows):
    body = await api(REGISTER, {"i": {"handle": "alice", "password": GOOD, "displayName": "d" * 1_100_000}}, status=413)
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert all(n == 0 for n in (await count_rows()).values())


async def test_sql_looking_profile_text_round_trips(api):
    token = (await api.register("alice"))["accessToken"]
    evil = "Robert'); DROP TABLE identity_users;-- \" OR \"1\"=\"1"
    body = await api("mutation($b: String) { updateProfile(input: {bio: $b, displayName: $b}) { bio displayName } }", {"b": evil}, token=token)
    assert len(evil) <= 64
    assert body == {"data": {"updateProfile": {"bio": evil, "displayName": evil}}}
    found = await api("query($h: String!) { user(handle: $h) { handle } }", {"h": "' OR '1'='1"})
    assert found == {"data": {"user": None}}
    assert (await api("{ user(handle: \"alice\") { handle } }"))["data"]["user"] == {"handle": "alice"}


async def test_wrong_password_and_unknown_user_look_the_same(api, count_rows):
    await api.register("alice")
    for login in ("alice", "nobody"):
        error = error_of(await api(LOGIN, {"i": {"login": login, "password": "Wrong-Horse-42"}}))
        assert error == {"message": "Invalid handle or password.", "locations": error["locations"], "path": ["login"], "extensions": {"code": "UNAUTHENTICATED"}}
    assert (await count_rows())["identity_refresh_tokens"] == 1  # only register's session


async def test_refresh_rotation_and_reuse_over_graphql(api):
    first = await api.register("alice")
    second = (await api(REFRESH, {"t": first["refreshToken"]}))["data"]["refreshToken"]
    assert second["refreshToken"] != first["refreshToken"]
    error = error_of(await api(REFRESH, {"t": first["refreshToken"]}))
    assert error["extensions"] == {"reason": "REUSED", "code": "UNAUTHENTICATED"}
    error = error_of(await api(REFRESH, {"t": second["refreshToken"]}))
    assert error["extensions"] == {"reason": "REUSED", "code": "UNAUTHENTICATED"}
    for junk in ("", "garbage", "x" * 1_000_000):
        error = error_of(await api(REFRESH, {"t": junk}))
        assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_ends_the_session(api):
    first = await api.register("alice")
    body = await api("mutation($t: String) { logout(refreshToken: $t) }", {"t": first["refreshToken"]}, token=first["accessToken"])
    assert body == {"data": {"logout": True}}
    assert error_of(await api(REFRESH, {"t": first["refreshToken"]}))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_change_password_over_graphql(api):
    first = await api.register("alice")
    mutation = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
    error = error_of(await api(mutation, {"c": "Wrong-Horse-42", "n": "Another-Horse-77"}, token=first["accessToken"]))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    error = error_of(await api(mutation, {"c": GOOD, "n": "short"}, token=first["accessToken"]))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api(mutation, {"c": GOOD, "n": "Another-Horse-77"}, token=first["accessToken"])) == {"data": {"changePassword": True}}
    assert "errors" not in await api(LOGIN, {"i": {"login": "alice", "password": "Another-Horse-77"}})


async def test_admin_only_operations(api):
    admin = await api.register("root_admin")
    alice = await api.register("alice")
    set_roles = "mutation($u: ID!, $r: [UserRole!]!) { setRoles(userId: $u, roles: $r) { roles } }"
    error = error_of(await api(set_roles, {"u": alice["user"]["id"], "r": ["ADMIN"]}, token=alice["accessToken"]))
    assert error["extensions"]["code"] == "FORBIDDEN"
    body = await api(set_roles, {"u": alice["user"]["id"], "r": ["CREATOR"]}, token=admin["accessToken"])
    assert body == {"data": {"setRoles": {"roles": ["USER", "CREATOR"]}}}
    body = await api("mutation($u: ID!) { setVerified(userId: $u, verified: true) { verified } }", {"u": alice["user"]["id"]}, token=admin["accessToken"])
    assert body == {"data": {"setVerified": {"verified": True}}}
    error = error_of(await api(set_roles, {"u": "missing", "r": []}, token=admin["accessToken"]))
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_audit_log_is_admin_only_and_records_auth_events(api):
    admin = await api.register("root_admin")
    alice = await api.register("alice")
    await api(LOGIN, {"i": {"login": "alice", "password": "Wrong-Horse-42"}})
    await api(REFRESH, {"t": alice["refreshToken"]})
    await api(REFRESH, {"t": alice["refreshToken"]})
    await api("mutation { createApiKey(name: \"ci\", scopes: [\"read\"]) { secret } }", token=alice["accessToken"])
    query = "query($u: ID) { auditEvents(userId: $u) { kind userId ip } }"
    error = error_of(await api(query, {"u": alice["user"]["id"]}, token=alice["accessToken"]))
    assert error["extensions"]["code"] == "FORBIDDEN"
    events = (await api(query, {"u": alice["user"]["id"]}, token=admin["accessToken"]))["data"]["auditEvents"]
    kinds = [e["kind"] for e in events]
    assert sorted(kinds) == sorted(["REGISTERED", "LOGIN_FAILED", "TOKEN_REFRESHED", "REFRESH_TOKEN_REUSED", "API_KEY_CREATED"])
    assert {e["ip"] for e in events} == {"127.0.0.1"}
    only = (await api("{ auditEvents(kind: LOGIN_FAILED) { kind } }", token=admin["accessToken"]))["data"]["auditEvents"]
    assert only == [{"kind": "LOGIN_FAILED"}]


async def test_login_rate_limit_answers_rate_limited_with_retry_after(app_factory, kv, count_rows):
    async with app_factory(kv=kv, login_limit_per_account_ip=3, login_limit_per_ip=100) as api:
        await api.register("alice")
        for _ in range(3):
            await api(LOGIN, {"i": {"login": "alice", "password": "Wrong-Horse-42"}})
        before = await count_rows()
        error = error_of(await api(LOGIN, {"i": {"login": "alice", "password": GOOD}}))
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= 300
        assert "retry in" in error["message"]
        assert await count_rows() == before  # a refused attempt does no work
        # Another account from the same IP is not affected by alice's exhausted budget.
        await api.register("bob")
        assert "errors" not in await api(LOGIN, {"i": {"login": "bob", "password": GOOD}})


async def test_register_and_challenge_rate_limits_per_ip(app_factory, kv):
    async with app_factory(kv=kv, register_limit_per_ip=2, challenge_limit_per_ip=2) as api:
        await api.register("alice")
        await api.register("bob")
        error = error_of(await api(REGISTER, {"i": {"handle": "carol", "password": GOOD}}))
        assert error["extensions"]["code"] == "RATE_LIMITED"
        address = Account.create().address
        challenge = "mutation($a: String!) { walletChallenge(chain: ETHEREUM, address: $a) { nonce } }"
        for _ in range(2):
            assert "errors" not in await api(challenge, {"a": address})
        error = error_of(await api(challenge, {"a": address}))
        assert error["extensions"]["code"] == "RATE_LIMITED"


CHALLENGE = "mutation($c: WalletChain!, $a: String!) { walletChallenge(chain: $c, address: $a) { nonce message expiresAt } }"
SIGN_IN = "mutation($n: String!, $s: String!) { signInWithWallet(nonce: $n, signature: $s) { accessToken user { id handle } } }"
LINK = "mutation($n: String!, $s: String!) { linkWallet(nonce: $n, signature: $s) { chain address } }"


def ethereum_wallet():
    account = Account.create()
    return "ETHEREUM", account.address, lambda m: Account.sign_message(encode_defunct(text=m), account.key).signature.hex()


def solana_wallet():
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SOLANA", base58.b58encode(raw).decode(), lambda m: base58.b58encode(key.sign(m.encode())).decode()


@pytest.mark.parametrize("make_wallet", [solana_wallet, ethereum_wallet], ids=["solana", "ethereum"])
async def test_wallet_sign_in_link_and_failures(api, count_rows, make_wallet):
    chain, address, sign = make_wallet()
    c = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
    signed_in_body = await api(SIGN_IN, {"n": c["nonce"], "s": sign(c["message"])})
    assert "errors" not in signed_in_body, signed_in_body
    signed_in = signed_in_body["data"]["signInWithWallet"]
    me = await api("{ me { id } myWallets { chain address } }", token=signed_in["accessToken"])
    assert me == {"data": {"me": {"id": signed_in["user"]["id"]}, "myWallets": [{"chain": chain, "address": address}]}}
    before = await count_rows()
    # Replayed nonce.
    error = error_of(await api(SIGN_IN, {"n": c["nonce"], "s": sign(c["message"])}))
    assert error["extensions"] == {"reason": "NONCE_REUSED", "code": "UNAUTHENTICATED"}
    # Wrong signature: another wallet signs this wallet's challenge.
    _, _, other_sign = make_wallet()
    c2 = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
    error = error_of(await api(SIGN_IN, {"n": c2["nonce"], "s": other_sign(c2["message"])}))
    assert error["extensions"] == {"reason": "BAD_SIGNATURE", "code": "UNAUTHENTICATED"}
    # Garbage signature and garbage nonce.
    c3 = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
    assert error_of(await api(SIGN_IN, {"n": c3["nonce"], "s": "x" * 1_000_000}))["extensions"]["code"] == "BAD_USER_INPUT"
    assert error_of(await api(SIGN_IN, {"n": "' OR 1=1 --", "s": sign(c3["message"])}))["extensions"]["code"] == "UNAUTHENTICATED"
    after = await count_rows()
    assert (after["identity_users"], after["identity_wallets"], after["identity_refresh_tokens"]) == (
        before["identity_users"], before["identity_wallets"], before["identity_refresh_tokens"])
    # Linking the same wallet to another account is a conflict.
    bob = await api.register("bob")
    c4 = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
    error = error_of(await api(LINK, {"n": c4["nonce"], "s": sign(c4["message"])}, token=bob["accessToken"]))
    assert error["extensions"]["code"] == "CONFLICT"


async def test_link_new_wallet_to_password_account(api):
    chain, address, sign = ethereum_wallet()
    alice = await api.register("alice")
    c = (await api(CHALLENGE, {"c": chain, "a": address.lower()}))["data"]["walletChallenge"]
    body = await api(LINK, {"n": c["nonce"], "s": sign(c["message"])}, token=alice["accessToken"])
    assert body == {"data": {"linkWallet": {"chain": "ETHEREUM", "address": address}}}
    c2 = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
    signed_in = (await api(SIGN_IN, {"n": c2["nonce"], "s": sign(c2["message"])}))["data"]["signInWithWallet"]
    assert signed_in["user"] == {"id": alice["user"]["id"], "handle": "alice"}


@pytest.mark.parametrize(("chain", "address"), [("ETHEREUM", "0xnothex"), ("SOLANA", "0x" + "a" * 40), ("SOLANA", "' OR 1=1 --"), ("ETHEREUM", "a" * 1_000_000)])
async def test_challenge_for_bad_address(api, count_rows, chain, address):
    error = error_of(await api(CHALLENGE, {"c": chain, "a": address}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert all(n == 0 for n in (await count_rows()).values())


GATEWAY_KEYS = SigningKeys.generate()


def _from(address: str, *, keys: SigningKeys | None = GATEWAY_KEYS) -> dict[str, str]:
    headers = {"x-tributary-client-address": address, "x-forwarded-for": "203.0.113.99"}
    if keys is not None:
        headers["x-service-token"] = ServiceIdentity(name="gateway", keys=keys).issue(audience="identity")
    return headers


@pytest.mark.parametrize("proof", ["gateway", "none", "forged"])
async def test_client_address_only_from_the_gateways_credential(app_factory, proof):
    public = {"gateway": public_key_text(GATEWAY_KEYS)}
    async with app_factory(service_public_keys=public, login_limit_per_ip=1,
                           login_limit_per_account=100) as api:
        await api.register("alice")
        keys = {"gateway": GATEWAY_KEYS, "none": None, "forged": SigningKeys.generate()}[proof]
        attempt = {"i": {"login": "alice", "password": "Wrong-Horse-42"}}
        first = error_of(await api(LOGIN, attempt, headers=_from("198.51.100.1", keys=keys)))
        second = error_of(await api(LOGIN, attempt, headers=_from("198.51.100.2", keys=keys)))
        assert first["extensions"]["code"] == "UNAUTHENTICATED"
        # The gateway's word: two clients, two budgets. Anyone else's: the header is ignored and
        # both attempts come from the one socket peer (X-Forwarded-For is never read).
        assert second["extensions"]["code"] == ("UNAUTHENTICATED" if proof == "gateway" else "RATE_LIMITED")


async def test_logout_with_only_the_refresh_token(api):
    first = await api.register("alice")
    mutation = "mutation($t: String, $all: Boolean!) { logout(refreshToken: $t, allSessions: $all) }"
    assert await api(mutation, {"t": "rt_unknown", "all": False}) == {"data": {"logout": False}}
    assert await api(mutation, {"t": first["refreshToken"], "all": False}) == {"data": {"logout": True}}
    assert error_of(await api(REFRESH, {"t": first["refreshToken"]}))["extensions"]["code"] == "UNAUTHENTICATED"
    # Ending every session needs the account itself.
    assert error_of(await api(mutation, {"t": None, "all": True}))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_change_password_without_current_is_refused_for_password_accounts(api, count_rows):
    first = await api.register("alice")
    before = await count_rows()
    body = await api('mutation { changePassword(newPassword: "Another-Horse-77") }', token=first["accessToken"])
    assert error_of(body)["extensions"]["code"] == "UNAUTHENTICATED"
    after = await count_rows()
    # Only the failed attempt's audit row was written.
    assert after["identity_audit_events"] == before["identity_audit_events"] + 1
    assert {k: v for k, v in after.items() if k != "identity_audit_events"} == {k: v for k, v in before.items() if k != "identity_audit_events"}


def login_from(address, password, login="alice"):
    return LOGIN, {"i": {"login": login, "password": password}}, _from(address)


async def test_attacker_hammering_an_account_never_locks_out_its_owner(app_factory, kv):
    limits = {"login_limit_per_account": 4, "login_limit_per_account_ip": 2, "login_limit_per_ip": 50}
    async with app_factory(kv=kv, service_public_keys={"gateway": public_key_text(GATEWAY_KEYS)}, **limits) as api:
        await api.register("alice", email="alice@example.com")
        codes = []
        for n in range(6):  # six attacker addresses, each until refused, by handle and by email
            for login in ("alice", "alice@example.com", "ALICE"):
                query, variables, headers = login_from(f"10.0.0.{n}", "Wrong-Horse-42", login)
                codes.append(error_of(await api(query, variables, headers=headers))["extensions"]["code"])
            # The owner, from an address of their own, signs in every time.
            query, variables, headers = login_from("203.0.113.10", GOOD)
            assert "errors" not in await api(query, variables, headers=headers)
        # The first address got two checks of alice's password (handle and email share one
        # budget; the refused third attempt still counts against the account), the second one
        # more before the account budget of 4 was spent, and each later address only one.
        assert codes.count("UNAUTHENTICATED") == 2 + 1 + 4
        assert codes[-3:] == ["UNAUTHENTICATED", "RATE_LIMITED", "RATE_LIMITED"]
        # The right password from an attacker's address is refused too: it failed recently.
        query, variables, headers = login_from("10.0.0.5", GOOD)
        assert error_of(await api(query, variables, headers=headers))["extensions"]["code"] == "RATE_LIMITED"
        # Another account is untouched.
        await api.register("bob")
        query, variables, headers = login_from("10.0.0.1", GOOD, "bob")
        assert "errors" not in await api(query, variables, headers=headers)


CHANGE_PASSWORD = "mutation($c: String, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"


async def test_change_password_is_attempt_limited(app_factory, kv):
    async with app_factory(kv=kv, login_limit_per_account_ip=3) as api:
        alice = await api.register("alice")
        token = alice["accessToken"]
        for _ in range(3):
            error = error_of(await api(CHANGE_PASSWORD, {"c": "Wrong-Horse-42", "n": "Another-Horse-77"}, token=token))
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
        error = error_of(await api(CHANGE_PASSWORD, {"c": GOOD, "n": "Another-Horse-77"}, token=token))
        assert error["extensions"]["code"] == "RATE_LIMITED"
        # Guesses through changePassword spend the same budget as logins: it is the same secret.
        error = error_of(await api(LOGIN, {"i": {"login": "alice", "password": GOOD}}))
        assert error["extensions"]["code"] == "RATE_LIMITED"


async def test_failed_refresh_tokens_are_limited_per_address(app_factory, kv):
    async with app_factory(kv=kv, token_failure_limit_per_ip=3) as api:
        alice = await api.register("alice")
        for n in range(3):
            error = error_of(await api(REFRESH, {"t": f"rt_guess_{n}"}))
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
        error = error_of(await api(REFRESH, {"t": alice["refreshToken"]}))
        assert error["extensions"]["code"] == "RATE_LIMITED"


ME = "{ me { id roles } }"


def revoked(body):
    # Refused before execution: HTTP 401, with the reason a client needs to decide to refresh.
    return [e["extensions"] for e in body["errors"]] == [{"code": "UNAUTHENTICATED", "reason": "revoked"}]


async def test_logout_password_and_role_changes_revoke_access_tokens(app_factory, kv):
    async with app_factory(kv=kv) as api:
        admin = await api.register("root_admin")
        alice = await api.register("alice")
        # Logout with only the refresh token (the client lost its access token): still revoked.
        mutation = "mutation($t: String) { logout(refreshToken: $t) }"
        assert await api(mutation, {"t": alice["refreshToken"]}) == {"data": {"logout": True}}
        assert revoked(await api(ME, token=alice["accessToken"], status=401))
        # A password change revokes the token it was made with; the new password signs in.
        session = (await api(LOGIN, {"i": {"login": "alice", "password": GOOD}}))["data"]["login"]
        assert (await api(CHANGE_PASSWORD, {"c": GOOD, "n": "Another-Horse-77"}, token=session["accessToken"])) == {
            "data": {"changePassword": True}}
        assert revoked(await api(ME, token=session["accessToken"], status=401))
        fresh = (await api(LOGIN, {"i": {"login": "alice", "password": "Another-Horse-77"}}))["data"]["login"]
        assert (await api(ME, token=fresh["accessToken"]))["data"]["me"]["roles"] == ["USER"]
        # New roles: tokens naming the old ones stop working; a refresh carries the new ones.
        set_roles = "mutation($u: ID!) { setRoles(userId: $u, roles: [CREATOR]) { id } }"
        assert "errors" not in await api(set_roles, {"u": alice["user"]["id"]}, token=admin["accessToken"])
        assert revoked(await api(ME, token=fresh["accessToken"], status=401))
        refreshed = (await api(REFRESH, {"t": fresh["refreshToken"]}))["data"]["refreshToken"]
        assert (await api(ME, token=refreshed["accessToken"]))["data"]["me"]["roles"] == ["USER", "CREATOR"]
        assert jwt.decode(refreshed["accessToken"], options={"verify_signature": False})["roles"] == ["CREATOR", "USER"]
        assert "errors" not in await api(ME, token=admin["accessToken"])  # other users untouched


@pytest.mark.parametrize(("make_wallet", "chain_id"), [(solana_wallet, "mainnet"), (ethereum_wallet, "1")],
                         ids=["solana", "ethereum"])
async def test_challenge_is_a_standard_sign_in_message_signed_for_real(app_factory, make_wallet, chain_id):
    async with app_factory(wallet_domain="app.tributary.io", wallet_uri="https://app.tributary.io/") as api:
        chain, address, sign = make_wallet()
        c = (await api(CHALLENGE, {"c": chain, "a": address}))["data"]["walletChallenge"]
        lines = c["message"].split("\n")
        account = "Ethereum" if chain == "ETHEREUM" else "Solana"
        assert lines[:2] == [f"app.tributary.io wants you to sign in with your {account} account:", address]
        assert lines[5:10] == ["URI: https://app.tributary.io/", "Version: 1", f"Chain ID: {chain_id}",
                               f"Nonce: {c['nonce']}", lines[9]]
        assert lines[9].startswith("Issued At: ") and lines[10].startswith("Expiration Time: ")
        body = await api(SIGN_IN, {"n": c["nonce"], "s": sign(c["message"])})
        assert "errors" not in body, body


async def test_a_challenge_answers_only_the_client_that_asked(app_factory):
    async with app_factory(service_public_keys={"gateway": public_key_text(GATEWAY_KEYS)}) as api:
        chain, address, sign = ethereum_wallet()
        asker = {**_from("203.0.113.20"), "user-agent": "wallet-app/1"}

        async def challenge():
            return (await api(CHALLENGE, {"c": chain, "a": address}, headers=asker))["data"]["walletChallenge"]

        for other in ({**_from("198.51.100.66"), "user-agent": "wallet-app/1"},
                      {**_from("203.0.113.20"), "user-agent": "curl/8"}):
            c = await challenge()
            error = error_of(await api(SIGN_IN, {"n": c["nonce"], "s": sign(c["message"])}, headers=other))
            assert error["extensions"] == {"reason": "CLIENT_MISMATCH", "code": "UNAUTHENTICATED"}
            # A challenge someone else answered is spent for its asker too.
            error = error_of(await api(SIGN_IN, {"n": c["nonce"], "s": sign(c["message"])}, headers=asker))
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
        c = await challenge()
        assert "errors" not in await api(SIGN_IN, {"n": c["nonce"], "s": sign(c["message"])}, headers=asker)


async def test_wallet_challenges_are_limited_per_address_and_per_client(app_factory, kv):
    async with app_factory(kv=kv, service_public_keys={"gateway": public_key_text(GATEWAY_KEYS)}, challenge_limit_per_ip=3,
                           challenge_limit_per_address=2) as api:
        _, address, _ = ethereum_wallet()
        # One wallet address asked for from many clients: its own budget.
        for n in range(2):
            assert "errors" not in await api(CHALLENGE, {"c": "ETHEREUM", "a": address},
                                             headers=_from(f"10.1.0.{n}"))
        error = error_of(await api(CHALLENGE, {"c": "ETHEREUM", "a": address}, headers=_from("10.1.0.9")))
        assert error["extensions"]["code"] == "RATE_LIMITED"
        # One client asking for many wallet addresses: the client's budget.
        for _ in range(3):
            _, other, _ = ethereum_wallet()
            assert "errors" not in await api(CHALLENGE, {"c": "ETHEREUM", "a": other}, headers=_from("10.2.0.1"))
        _, other, _ = ethereum_wallet()
        error = error_of(await api(CHALLENGE, {"c": "ETHEREUM", "a": other}, headers=_from("10.2.0.1")))
        assert error["extensions"]["code"] == "RATE_LIMITED"
