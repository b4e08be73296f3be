"""The embedded default sender: prints each message to the log and keeps it in an outbox."""

from __future__ import annotations

import logging
import uuid
from collections import deque

from subgraphs.identity.messaging._message import OutboundMessage, SentMessage

__all__ = ["DevSender"]

log = logging.getLogger("tributary.identity.dev_sender")


class DevSender:
    """Dev/test only (settings refuse it in prod): the code shows in the `make run` log."""

    name = "dev"

    def __init__(self, *, keep: int = 1000) -> None:
        self.outbox: deque[OutboundMessage] = deque(maxlen=keep)

    async def send(self, message: OutboundMessage) -> SentMessage:
        self.outbox.append(message)
        log.warning("dev %s to %s: %s", message.channel.value, message.to, message.body)
        return SentMessage(provider=self.name, message_id=f"dev-{uuid.uuid4().hex}", status="sent")

    def last_to(self, to: str) -> OutboundMessage | None:
        """The newest message sent to `to` (tests read codes from it)."""
        return next((m for m in reversed(self.outbox) if m.to == to), None)
