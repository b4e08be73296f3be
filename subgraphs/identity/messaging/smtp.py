"""Email codes over SMTP (STARTTLS and AUTH as configured), sent from a worker thread."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from subgraphs.identity.messaging._message import DeliveryError, OutboundMessage, SentMessage

__all__ = ["SmtpEmailSender"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SmtpEmailSender:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0
    tls_context: ssl.SSLContext | None = None
    name: str = "smtp"

    async def send(self, message: OutboundMessage) -> SentMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        message_id = make_msgid(idstring=uuid.uuid4().hex[:12])
        email["Message-ID"] = message_id
        email.set_content(message.body)
        # smtplib blocks; a thread keeps the event loop serving other requests meanwhile.
        await asyncio.to_thread(self._deliver, email)
        return SentMessage(provider=self.name, message_id=message_id, status="sent")

    def _deliver(self, email: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
                if self.starttls:
                    client.starttls(context=self.tls_context or ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password)
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError("The email address was refused.", permanent=True) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP delivery failed ({type(error).__name__}).") from error
