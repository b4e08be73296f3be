"""The senders against real peers on loopback: SMTP (aiosmtpd) and a Twilio-shaped HTTP API."""

from __future__ import annotations

import pytest

from subgraphs.identity.messaging import (
    Channel,
    DeliveryError,
    DevSender,
    OutboundMessage,
    SmtpEmailSender,
    TwilioSender,
    twilio_signature,
)
from subgraphs.identity.messaging.twilio import verify_twilio_signature
from tests.subgraphs.identity._providers import free_port, self_signed, smtp_server, twilio_api


def _message(channel: Channel, to: str) -> OutboundMessage:
    return OutboundMessage(channel=channel, to=to, subject="Your code", body="Your code is 123456.")


async def test_dev_sender_logs_and_keeps_an_outbox(caplog):
    sender = DevSender()
    with caplog.at_level("WARNING", logger="tributary.identity.dev_sender"):
        sent = await sender.send(_message(Channel.SMS, "+15551234567"))
    assert sent.provider == "dev" and sent.message_id.startswith("dev-")
    assert sender.last_to("+15551234567").body == "Your code is 123456."
    assert "123456" in caplog.text and "+15551234567" in caplog.text


async def test_smtp_with_starttls_and_auth(tmp_path):
    server_tls, client_tls = self_signed(tmp_path)
    with smtp_server(username="mailer", password="s3cret", tls_context=server_tls) as inbox:
        sender = SmtpEmailSender(host=inbox.host, port=inbox.port, sender="codes@tributary.test",
                                 username="mailer", password="s3cret", starttls=True,
                                 tls_context=client_tls)
        sent = await sender.send(_message(Channel.EMAIL, "alice@example.org"))
    mail = inbox.last_to("alice@example.org")
    assert mail is not None
    assert mail["From"] == "codes@tributary.test" and mail["Subject"] == "Your code"
    assert mail["Message-ID"] == sent.message_id
    assert "Your code is 123456." in mail.get_payload()
    assert inbox.logins == [("mailer", "s3cret")]


async def test_smtp_wrong_password_and_refused_recipient(tmp_path):
    with smtp_server(username="mailer", password="s3cret") as inbox:
        wrong = SmtpEmailSender(host=inbox.host, port=inbox.port, sender="c@tributary.test",
                                username="mailer", password="nope", starttls=False)
        with pytest.raises(DeliveryError) as failed:
            await wrong.send(_message(Channel.EMAIL, "alice@example.org"))
        assert not failed.value.permanent
        inbox.refused.add("ghost@example.org")
        right = SmtpEmailSender(host=inbox.host, port=inbox.port, sender="c@tributary.test",
                                username="mailer", password="s3cret", starttls=False)
        with pytest.raises(DeliveryError) as refused:
            await right.send(_message(Channel.EMAIL, "ghost@example.org"))
        assert refused.value.permanent
    assert inbox.messages == []


async def test_smtp_unreachable_is_a_temporary_failure():
    sender = SmtpEmailSender(host="127.0.0.1", port=free_port(), sender="c@tributary.test",
                             starttls=False, timeout=2)
    with pytest.raises(DeliveryError) as failed:
        await sender.send(_message(Channel.EMAIL, "alice@example.org"))
    assert not failed.value.permanent


async def test_twilio_sms_and_whatsapp_through_the_messages_api():
    with twilio_api() as api:
        sender = TwilioSender(account_sid=api.account_sid, auth_token=api.auth_token,
                              sms_from="+15005550006", whatsapp_from="+14155238886",
                              api_url=api.url, status_callback_url="https://id.example/cb")
        sms = await sender.send(_message(Channel.SMS, "+15551234567"))
        wa = await sender.send(_message(Channel.WHATSAPP, "+15551234568"))
    assert sms.message_id.startswith("SM") and sms.status == "queued"
    assert wa.message_id != sms.message_id
    assert api.requests[0]["form"] == {"To": "+15551234567", "From": "+15005550006",
                                       "Body": "Your code is 123456.",
                                       "StatusCallback": "https://id.example/cb"}
    assert api.requests[1]["form"]["To"] == "whatsapp:+15551234568"
    assert api.requests[1]["form"]["From"] == "whatsapp:+14155238886"


async def test_twilio_errors_wrong_credentials_bad_number_unreachable():
    with twilio_api() as api:
        wrong = TwilioSender(account_sid=api.account_sid, auth_token="wrong",
                             sms_from="+15005550006", api_url=api.url)
        with pytest.raises(DeliveryError) as unauthorized:
            await wrong.send(_message(Channel.SMS, "+15551234567"))
        assert not unauthorized.value.permanent
        api.fail_with = (400, {"code": 21211, "message": "Invalid 'To' Phone Number",
                               "status": 400})
        right = TwilioSender(account_sid=api.account_sid, auth_token=api.auth_token,
                             sms_from="+15005550006", api_url=api.url)
        with pytest.raises(DeliveryError) as invalid:
            await right.send(_message(Channel.SMS, "+15551234567"))
        assert invalid.value.permanent
    gone = TwilioSender(account_sid="AC1", auth_token="t", sms_from="+15005550006",
                        api_url=f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(DeliveryError):
        await gone.send(_message(Channel.SMS, "+15551234567"))


def test_twilio_signature_matches_the_documented_example():
    # Twilio's published request-validation example (auth token 12345).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    assert twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert verify_twilio_signature("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not verify_twilio_signature("12345", url, {**params, "Digits": "9999"},
                                       "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not verify_twilio_signature("54321", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not verify_twilio_signature("12345", url, params, None)
