"""What a sender is given and answers: one message to one destination over one channel."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Channel", "DeliveryError", "MessageSender", "OutboundMessage", "SentMessage"]


class Channel(enum.StrEnum):
    SMS = "SMS"
    WHATSAPP = "WHATSAPP"
    EMAIL = "EMAIL"


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboundMessage:
    channel: Channel
    to: str  # E.164 for SMS/WhatsApp, an address for email
    subject: str
    body: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SentMessage:
    provider: str
    message_id: str
    status: str


class DeliveryError(Exception):
    """The provider refused or could not take the message; `permanent` when retrying is futile
    (an invalid or unreachable destination)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MessageSender(Protocol):
    @property
    def name(self) -> str: ...

    async def send(self, message: OutboundMessage) -> SentMessage: ...
