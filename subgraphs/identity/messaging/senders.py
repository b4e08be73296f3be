"""Which sender serves which channel, built from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from subgraphs.identity.config import IdentitySettings
from subgraphs.identity.messaging._message import Channel, MessageSender
from subgraphs.identity.messaging.dev import DevSender
from subgraphs.identity.messaging.smtp import SmtpEmailSender
from subgraphs.identity.messaging.twilio import TwilioSender

__all__ = ["Senders", "build_senders"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Senders:
    phone: MessageSender | None
    email: MessageSender | None
    # The dev sender, when any channel uses it: tests read its outbox.
    dev: DevSender | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)

    def for_channel(self, channel: Channel) -> MessageSender | None:
        return self.email if channel is Channel.EMAIL else self.phone


def build_senders(settings: IdentitySettings) -> Senders:
    dev = DevSender() if "dev" in (settings.phone_sender, settings.email_sender) else None
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    phone: MessageSender | None = None
    if settings.phone_sender == "dev":
        phone = dev
    elif settings.phone_sender == "twilio":
        assert token is not None, "settings require the Twilio auth token"
        phone = TwilioSender(
            account_sid=settings.twilio_account_sid,
            auth_token=token,
            sms_from=settings.twilio_sms_from,
            whatsapp_from=settings.twilio_whatsapp_from,
            api_url=settings.twilio_api_url,
            status_callback_url=settings.twilio_status_callback_url,
        )
    email: MessageSender | None = None
    if settings.email_sender == "dev":
        email = dev
    elif settings.email_sender == "smtp":
        email = SmtpEmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    return Senders(phone=phone, email=email, dev=dev, twilio_auth_token=token)
