"""Getting back in and proving contacts: password reset by email or phone code (every session
and access token revoked), email verification, email and phone changes confirmed at the new
address."""

from __future__ import annotations

from tests.subgraphs.identity._providers import smtp_server
from tests.subgraphs.identity.resolvers.test_codes import (
    ME,
    PHONE,
    code_in,
    error_of,
    outbox_code,
    request,
    sign_in,
)

GOOD = "Correct-Horse-42"
NEW = "Brand-New-Horse-77"
LOGIN = "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken refreshToken } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"
ASK_RESET = """mutation($c: CodeChannel!, $d: String!) {
  requestPasswordReset(channel: $c, destination: $d) { channel destination expiresIn } }"""
RESET = """mutation($c: CodeChannel!, $d: String!, $code: String!, $p: String!) {
  resetPassword(channel: $c, destination: $d, code: $code, newPassword: $p) }"""


async def login(api, who: str, password: str = GOOD):
    body = await api(LOGIN, {"l": who, "p": password})
    assert "errors" not in body, body
    return body["data"]["login"]


async def test_reset_by_email_over_smtp_revokes_every_session(app_factory):
    with smtp_server() as inbox:
        async with app_factory(email_provider="smtp", smtp_host=inbox.host, smtp_port=inbox.port,
                               smtp_from="codes@tributary.test", smtp_starttls=False) as api:
            await api.register("alice", email="alice@example.org")
            sessions = [await login(api, "alice"), await login(api, "alice@example.org")]
            asked = await api(ASK_RESET, {"c": "EMAIL", "d": "alice@example.org"})
            assert asked["data"]["requestPasswordReset"]["destination"] == "a***@example.org"
            mail = inbox.last_to("alice@example.org")
            assert mail["Subject"] == "Reset your Tributary password"
            done = await api(RESET, {"c": "EMAIL", "d": "alice@example.org",
                                     "code": code_in(mail.get_payload()), "p": NEW})
            assert done == {"data": {"resetPassword": True}}
            for old in sessions:
                denied = await api(ME, token=old["accessToken"], status=401)
                assert denied["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED",
                                                             "reason": "revoked"}
                spent = error_of(await api(REFRESH, {"t": old["refreshToken"]}))
                assert spent["extensions"]["code"] == "UNAUTHENTICATED"
            wrong = error_of(await api(LOGIN, {"l": "alice", "p": GOOD}))
            assert wrong["extensions"]["code"] == "UNAUTHENTICATED"
            fresh = await login(api, "alice", NEW)
            me = (await api(ME, token=fresh["accessToken"]))["data"]["me"]
            # The code proved the inbox.
            assert me["emailVerified"] is True


async def test_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(api, count_rows):
    body = await api(ASK_RESET, {"c": "EMAIL", "d": "nobody@example.org"})
    assert body == {"data": {"requestPasswordReset": {
        "channel": "EMAIL", "destination": "n***@example.org", "expiresIn": 600}}}
    assert len(api.app.state.identity.senders.dev.outbox) == 0
    assert all(n == 0 for n in (await count_rows()).values())
    error = error_of(await api(RESET, {"c": "EMAIL", "d": "nobody@example.org",
                                       "code": "123456", "p": NEW}))
    assert error["extensions"]["reason"] == "CODE_INVALID"


async def test_reset_by_phone_gives_a_phone_account_its_password(api):
    await request(api, "SMS", PHONE)
    await sign_in(api, "SMS", PHONE, outbox_code(api, PHONE), handle="phoney")
    await api(ASK_RESET, {"c": "WHATSAPP", "d": PHONE})
    code = outbox_code(api, PHONE)
    weak = error_of(await api(RESET, {"c": "WHATSAPP", "d": PHONE, "code": code, "p": "weak"}))
    assert weak["extensions"]["code"] == "BAD_USER_INPUT"
    assert weak["extensions"]["field"] == "password"
    # The weak password spent nothing: the same code still resets.
    assert (await api(RESET, {"c": "WHATSAPP", "d": PHONE, "code": code, "p": NEW}))["data"] == {
        "resetPassword": True}
    await login(api, "phoney", NEW)


async def test_wrong_reset_code_changes_nothing(api):
    await api.register("alice", email="alice@example.org")
    await api(ASK_RESET, {"c": "EMAIL", "d": "alice@example.org"})
    code = outbox_code(api, "alice@example.org")
    wrong = "000000" if code != "000000" else "111111"
    error = error_of(await api(RESET, {"c": "EMAIL", "d": "alice@example.org", "code": wrong,
                                       "p": NEW}))
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "CODE_INVALID",
                                   "attemptsLeft": 4}
    await login(api, "alice", GOOD)


VERIFY_ASK = "mutation { requestEmailVerification { destination } }"
VERIFY = "mutation($c: String!) { verifyEmail(code: $c) { email emailVerified } }"


async def test_email_verification(api):
    token = (await api.register("alice", email="alice@example.org"))["accessToken"]
    assert (await api(ME, token=token))["data"]["me"]["emailVerified"] is False
    assert (await api(VERIFY_ASK, token=token))["data"]["requestEmailVerification"] == {
        "destination": "a***@example.org"}
    code = outbox_code(api, "alice@example.org")
    assert error_of(await api(VERIFY, {"c": "999999" if code != "999999" else "000000"},
                              token=token))["extensions"]["reason"] == "CODE_INVALID"
    assert (await api(VERIFY, {"c": code}, token=token))["data"]["verifyEmail"] == {
        "email": "alice@example.org", "emailVerified": True}
    again = error_of(await api(VERIFY_ASK, token=token))
    assert again["extensions"] == {"code": "BAD_USER_INPUT", "field": "email",
                                   "reason": "ALREADY_VERIFIED"}
    # Nobody else sees it.
    other = (await api.register("bob"))["accessToken"]
    body = await api('{ user(handle: "alice") { email emailVerified phone } }', token=other)
    assert body["data"]["user"] == {"email": None, "emailVerified": None, "phone": None}


async def test_verification_without_an_email_or_signed_out(api):
    token = (await api.register("alice"))["accessToken"]
    assert error_of(await api(VERIFY_ASK, token=token))["extensions"]["reason"] == "MISSING"
    assert error_of(await api(VERIFY_ASK))["extensions"]["code"] == "UNAUTHENTICATED"


CHANGE_EMAIL = "mutation($e: String!) { requestEmailChange(email: $e) { destination } }"
CONFIRM_EMAIL = "mutation($c: String!) { confirmEmailChange(code: $c) { email emailVerified } }"
CHANGE_PHONE = "mutation($p: String!, $c: CodeChannel) { requestPhoneChange(phone: $p, channel: $c) { destination channel } }"
CONFIRM_PHONE = "mutation($c: String!) { confirmPhoneChange(code: $c) { phone } }"


async def test_email_change_is_confirmed_at_the_new_address(api):
    token = (await api.register("alice", email="old@example.org"))["accessToken"]
    await api.register("bob", email="taken@example.org")
    taken = error_of(await api(CHANGE_EMAIL, {"e": "taken@example.org"}, token=token))
    assert taken["extensions"] == {"code": "CONFLICT", "field": "email"}
    assert (await api(CHANGE_EMAIL, {"e": "New@Example.org"}, token=token))["data"] == {
        "requestEmailChange": {"destination": "n***@example.org"}}
    assert api.app.state.identity.senders.dev.last_to("old@example.org") is None
    code = outbox_code(api, "new@example.org")
    # Nothing changes before the confirmation.
    assert (await api(ME, token=token))["data"]["me"]["email"] == "old@example.org"
    assert (await api(CONFIRM_EMAIL, {"c": code}, token=token))["data"]["confirmEmailChange"] == {
        "email": "new@example.org", "emailVerified": True}
    replay = error_of(await api(CONFIRM_EMAIL, {"c": code}, token=token))
    assert replay["extensions"]["reason"] == "CODE_INVALID"
    # A proven email no longer changes by a plain profile edit.
    edit = error_of(await api('mutation { updateProfile(input: {email: "x@example.org"}) { id } }',
                              token=token))
    assert edit["extensions"] == {"code": "BAD_USER_INPUT", "field": "email",
                                  "reason": "CONFIRMATION_REQUIRED"}


async def test_email_taken_between_request_and_confirmation(api):
    token = (await api.register("alice", email="old@example.org"))["accessToken"]
    await api(CHANGE_EMAIL, {"e": "contested@example.org"}, token=token)
    code = outbox_code(api, "contested@example.org")
    await api.register("carol", email="contested@example.org")
    error = error_of(await api(CONFIRM_EMAIL, {"c": code}, token=token))
    assert error["extensions"] == {"code": "CONFLICT", "field": "email"}
    assert (await api(ME, token=token))["data"]["me"]["email"] == "old@example.org"


async def test_phone_change_is_confirmed_at_the_new_phone(api):
    token = (await api.register("alice"))["accessToken"]
    bad = error_of(await api(CHANGE_PHONE, {"p": "12345"}, token=token))
    assert bad["extensions"]["reason"] == "INVALID_PHONE"
    wrong_channel = error_of(await api(CHANGE_PHONE, {"p": PHONE, "c": "EMAIL"}, token=token))
    assert wrong_channel["extensions"]["field"] == "channel"
    sent = await api(CHANGE_PHONE, {"p": "+44 20 7183 8750", "c": "WHATSAPP"}, token=token)
    assert sent["data"]["requestPhoneChange"] == {"destination": "+44********50",
                                                  "channel": "WHATSAPP"}
    code = outbox_code(api, "+442071838750")
    assert (await api(CONFIRM_PHONE, {"c": code}, token=token))["data"] == {
        "confirmPhoneChange": {"phone": "+442071838750"}}
    # The proven phone now signs alice in.
    await request(api, "SMS", "+442071838750")
    body = await sign_in(api, "SMS", "+442071838750", outbox_code(api, "+442071838750"))
    assert body["data"]["signInWithCode"]["user"]["handle"] == "alice"
