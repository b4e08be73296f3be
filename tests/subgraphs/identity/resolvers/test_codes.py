"""One-time codes through the real app: sign-up and sign-in by phone and email, over the dev
sender, a real SMTP server and a Twilio-shaped API on loopback; every failure coded."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from subgraphs.identity.messaging import twilio_signature
from subgraphs.identity.models import OneTimeCode
from tests.subgraphs.identity._providers import smtp_server, twilio_api

REQUEST = """mutation($c: CodeChannel!, $d: String!) {
  requestSignInCode(channel: $c, destination: $d) { channel destination expiresIn } }"""
SIGN_IN = """mutation($c: CodeChannel!, $d: String!, $code: String!, $h: String) {
  signInWithCode(channel: $c, destination: $d, code: $code, handle: $h) {
    accessToken refreshToken user { id handle email phone emailVerified } } }"""
ME = "{ me { id handle phone email emailVerified } }"
PHONE = "+14155552671"


def error_of(body):
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


def code_in(text: str) -> str:
    match = re.search(r"code is (\d{6})\.", text)
    assert match, text
    return match.group(1)


def outbox_code(api, to: str) -> str:
    message = api.app.state.identity.senders.dev.last_to(to)
    assert message is not None, f"nothing sent to {to}"
    return code_in(message.body)


async def request(api, channel: str, destination: str, **kw):
    return await api(REQUEST, {"c": channel, "d": destination}, **kw)


async def sign_in(api, channel: str, destination: str, code: str, handle: str | None = None):
    return await api(SIGN_IN, {"c": channel, "d": destination, "code": code, "h": handle})


@pytest.mark.parametrize("channel", ["SMS", "WHATSAPP"])
async def test_sign_up_then_sign_in_by_phone_code(api, database, channel):
    sent = await request(api, channel, "+1 (415) 555-2671")
    assert sent == {"data": {"requestSignInCode": {
        "channel": channel, "destination": "+14*******71", "expiresIn": 600}}}
    code = outbox_code(api, PHONE)
    first = (await sign_in(api, channel, PHONE, code, handle="phone_user"))["data"]["signInWithCode"]
    assert first["user"]["handle"] == "phone_user" and first["user"]["phone"] == PHONE
    me = await api(ME, token=first["accessToken"])
    assert me["data"]["me"]["phone"] == PHONE
    # Hashed at rest: the code appears nowhere in the row.
    async with database.engine.connect() as conn:
        row = (await conn.execute(sa.text(
            "SELECT code_hash, destination, used_at FROM identity_one_time_codes"))).one()
    assert code not in row.code_hash and row.destination == PHONE and row.used_at is not None
    # Single use.
    replay = error_of(await sign_in(api, channel, PHONE, code))
    assert replay["extensions"] == {"code": "UNAUTHENTICATED", "reason": "CODE_INVALID",
                                    "attemptsLeft": 0}
    # A new code signs the same account in (no second account).
    await request(api, channel, PHONE)
    again = (await sign_in(api, channel, PHONE, outbox_code(api, PHONE)))["data"]["signInWithCode"]
    assert again["user"]["id"] == first["user"]["id"]


async def test_a_new_code_spends_the_previous_one(api):
    await request(api, "SMS", PHONE)
    old = outbox_code(api, PHONE)
    await request(api, "SMS", PHONE)
    new = outbox_code(api, PHONE)
    if old != new:
        assert error_of(await sign_in(api, "SMS", PHONE, old))["extensions"]["reason"] == "CODE_INVALID"
    assert "errors" not in await sign_in(api, "SMS", PHONE, new)


@pytest.mark.parametrize(("channel", "destination"), [
    ("SMS", "+123"), ("SMS", "4155552671"), ("SMS", "not a phone"), ("WHATSAPP", "+1" + "9" * 40),
    ("EMAIL", "nobody"), ("EMAIL", "' OR 1=1 --"), ("SMS", "+1" * 1000),
])
async def test_bad_destination_is_coded_and_writes_nothing(api, count_rows, channel, destination):
    error = error_of(await request(api, channel, destination))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "destination"
    assert error["extensions"]["reason"] in {"INVALID_PHONE", "INVALID", "TOO_LONG"}
    assert all(n == 0 for n in (await count_rows()).values())
    assert len(api.app.state.identity.senders.dev.outbox) == 0


async def test_wrong_code_five_times_spends_it(api, count_rows):
    await request(api, "SMS", PHONE)
    code = outbox_code(api, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    left = []
    for _ in range(5):
        error = error_of(await sign_in(api, "SMS", PHONE, wrong))
        assert error["extensions"]["reason"] == "CODE_INVALID"
        left.append(error["extensions"]["attemptsLeft"])
    assert left == [4, 3, 2, 1, 0]
    # The right code no longer works; no account was made.
    assert error_of(await sign_in(api, "SMS", PHONE, code))["extensions"]["reason"] == "CODE_INVALID"
    assert (await count_rows())["identity_users"] == 0


async def test_expired_code(api, database, count_rows):
    await request(api, "EMAIL", "alice@example.org")
    code = outbox_code(api, "alice@example.org")
    async with database.engine.begin() as conn:
        await conn.execute(sa.update(OneTimeCode).values(
            expires_at=datetime(2020, 1, 1, tzinfo=UTC)))
    error = error_of(await sign_in(api, "EMAIL", "alice@example.org", code))
    assert error["message"] == "The code has expired; request a new one."
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "CODE_EXPIRED"}
    assert (await count_rows())["identity_users"] == 0


async def test_sends_are_limited_per_destination_and_per_address(app_factory, kv):
    async with app_factory(kv=kv, code_send_limit_per_destination=2,
                           code_send_limit_per_ip=4) as api:
        for _ in range(2):
            assert "errors" not in await request(api, "SMS", PHONE)
        limited = error_of(await request(api, "SMS", PHONE))
        assert limited["extensions"]["code"] == "RATE_LIMITED"
        assert limited["extensions"]["retryAfter"] >= 1
        # The refused request counted against the address too (4 of 4).
        assert "errors" not in await request(api, "EMAIL", "bob@example.org")
        by_address = error_of(await request(api, "EMAIL", "carol@example.org"))
        assert by_address["extensions"]["code"] == "RATE_LIMITED"
        assert len(api.app.state.identity.senders.dev.outbox) == 3


async def test_wrong_codes_are_limited_per_address_across_destinations(app_factory, kv):
    async with app_factory(kv=kv, code_failure_limit_per_ip=3) as api:
        for n in range(3):
            await request(api, "EMAIL", f"u{n}@example.org")
            error = error_of(await sign_in(api, "EMAIL", f"u{n}@example.org", "abcdef"))
            assert error["extensions"]["reason"] == "CODE_INVALID"
        await request(api, "EMAIL", "u9@example.org")
        code = outbox_code(api, "u9@example.org")
        limited = error_of(await sign_in(api, "EMAIL", "u9@example.org", code))
        assert limited["extensions"]["code"] == "RATE_LIMITED"


async def test_taken_handle_on_sign_up_keeps_the_code(api, count_rows):
    await api.register("alice")
    await request(api, "SMS", PHONE)
    code = outbox_code(api, PHONE)
    before = await count_rows()
    error = error_of(await sign_in(api, "SMS", PHONE, code, handle="Alice"))
    assert error["extensions"] == {"field": "handle", "code": "CONFLICT"}
    assert await count_rows() == before
    # Nothing was spent: the same code signs up with a free handle.
    assert "errors" not in await sign_in(api, "SMS", PHONE, code, handle="alice_phone")


async def test_an_unproven_email_claim_yields_to_the_one_who_proves_it(api):
    claimer = await api.register("claimer", email="victim@example.org")
    await request(api, "EMAIL", "victim@example.org")
    body = await sign_in(api, "EMAIL", "victim@example.org", outbox_code(api, "victim@example.org"))
    owner = body["data"]["signInWithCode"]["user"]
    assert owner["id"] != claimer["user"]["id"]
    assert owner["email"] == "victim@example.org" and owner["emailVerified"] is True
    me = await api(ME, token=claimer["accessToken"])
    assert me["data"]["me"]["email"] is None


async def test_email_code_over_a_real_smtp_server(app_factory):
    with smtp_server(username="mailer", password="smtp-pass") as inbox:
        async with app_factory(email_provider="smtp", smtp_host=inbox.host, smtp_port=inbox.port,
                               smtp_from="codes@tributary.test", smtp_starttls=False,
                               smtp_username="mailer", smtp_password="smtp-pass") as api:
            assert "errors" not in await request(api, "EMAIL", "Dana@Example.org")
            mail = inbox.last_to("dana@example.org")
            assert mail is not None and mail["Subject"] == "Your Tributary sign-in code"
            body = await sign_in(api, "EMAIL", "dana@example.org", code_in(mail.get_payload()))
    user = body["data"]["signInWithCode"]["user"]
    assert user["email"] == "dana@example.org" and user["emailVerified"] is True
    assert inbox.logins == [("mailer", "smtp-pass")]


async def test_smtp_down_is_service_unavailable_and_spends_the_code(app_factory, database):
    from tests.subgraphs.identity._providers import free_port

    async with app_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=free_port(),
                           smtp_from="codes@tributary.test", smtp_starttls=False,
                           smtp_timeout_seconds=2) as api:
        error = error_of(await request(api, "EMAIL", "dana@example.org"))
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    async with database.engine.connect() as conn:
        row = (await conn.execute(sa.text(
            "SELECT used_at, delivery_status FROM identity_one_time_codes"))).one()
    assert row.used_at is not None and row.delivery_status == "failed"


CALLBACK = "https://identity.example/webhooks/twilio/status"


def twilio_settings(peer) -> dict[str, object]:
    return {"sms_provider": "twilio", "twilio_account_sid": peer.account_sid,
            "twilio_auth_token": peer.auth_token, "twilio_sms_from": "+15005550006",
            "twilio_whatsapp_from": "+14155238886", "twilio_api_url": peer.url,
            "twilio_status_callback_url": CALLBACK}


async def test_whatsapp_code_through_twilio_and_signed_status_callbacks(app_factory, database):
    with twilio_api() as peer:
        async with app_factory(**twilio_settings(peer)) as api:
            assert "errors" not in await request(api, "WHATSAPP", PHONE)
            form = peer.last_to(f"whatsapp:{PHONE}")
            assert form["From"] == "whatsapp:+14155238886" and form["StatusCallback"] == CALLBACK
            body = await sign_in(api, "WHATSAPP", PHONE, code_in(form["Body"]))
            assert body["data"]["signInWithCode"]["user"]["phone"] == PHONE
            async with database.engine.connect() as conn:
                sid = (await conn.execute(sa.text(
                    "SELECT provider_message_id FROM identity_one_time_codes"))).scalar_one()
            params = {"MessageSid": sid, "MessageStatus": "delivered",
                      "AccountSid": peer.account_sid}
            forged = await api.client.post("/webhooks/twilio/status", data=params,
                                           headers={"x-twilio-signature": "AAAA"})
            assert forged.status_code == 403
            assert forged.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            tampered = await api.client.post(
                "/webhooks/twilio/status", data={**params, "MessageStatus": "failed"},
                headers={"x-twilio-signature": twilio_signature(peer.auth_token, CALLBACK, params)})
            assert tampered.status_code == 403
            signed = await api.client.post(
                "/webhooks/twilio/status", data=params,
                headers={"x-twilio-signature": twilio_signature(peer.auth_token, CALLBACK, params)})
            assert signed.status_code == 204
    async with database.engine.connect() as conn:
        status = (await conn.execute(sa.text(
            "SELECT delivery_status FROM identity_one_time_codes"))).scalar_one()
    assert status == "delivered"


async def test_twilio_refusing_the_number_is_bad_input(app_factory):
    with twilio_api() as peer:
        peer.fail_with = (400, {"code": 21614, "message": "not a mobile number", "status": 400})
        async with app_factory(**twilio_settings(peer)) as api:
            error = error_of(await request(api, "SMS", PHONE))
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "destination",
                                           "reason": "UNDELIVERABLE"}
            peer.fail_with = (500, {"code": 20500, "message": "oops", "status": 500})
            assert error_of(await request(api, "SMS", "+442071838750"))["extensions"]["code"] == (
                "SERVICE_UNAVAILABLE")


async def test_callbacks_without_twilio_configured_are_not_found(api):
    response = await api.client.post("/webhooks/twilio/status", data={"MessageSid": "SM1"})
    assert response.status_code == 404


async def test_concurrent_answers_spend_a_code_once(api, count_rows):
    import asyncio

    await request(api, "SMS", PHONE)
    code = outbox_code(api, PHONE)
    results = await asyncio.gather(*(sign_in(api, "SMS", PHONE, code, handle=f"racer_{n}")
                                     for n in range(4)))
    won = [r for r in results if "errors" not in r]
    assert len(won) == 1, results
    assert all(error_of(r)["extensions"]["code"] in {"UNAUTHENTICATED", "CONFLICT"}
               for r in results if "errors" in r)
    counts = await count_rows()
    assert counts["identity_users"] == 1 and counts["identity_refresh_tokens"] == 1
