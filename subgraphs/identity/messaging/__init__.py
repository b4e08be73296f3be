"""Senders of one-time codes (SMS, WhatsApp, email) behind one interface."""

from subgraphs.identity.messaging._message import (
    Channel,
    DeliveryError,
    MessageSender,
    OutboundMessage,
    SentMessage,
)
from subgraphs.identity.messaging.dev import DevSender
from subgraphs.identity.messaging.senders import Senders, build_senders
from subgraphs.identity.messaging.smtp import SmtpEmailSender
from subgraphs.identity.messaging.twilio import TwilioSender, twilio_signature

__all__ = [
    "Channel",
    "DeliveryError",
    "DevSender",
    "MessageSender",
    "OutboundMessage",
    "Senders",
    "SentMessage",
    "SmtpEmailSender",
    "TwilioSender",
    "build_senders",
    "twilio_signature",
]
