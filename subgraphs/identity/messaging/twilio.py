"""Twilio's Messages API for SMS and WhatsApp, and the signatures of its status callbacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from subgraphs.identity.messaging._message import (
    Channel,
    DeliveryError,
    OutboundMessage,
    SentMessage,
)

__all__ = ["TwilioSender", "twilio_signature", "verify_twilio_signature"]

# Twilio error codes that mean the destination itself is wrong (retrying cannot help).
_PERMANENT = frozenset({21211, 21212, 21408, 21610, 21612, 21614, 63003})


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 over the URL and the sorted POST parameters."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_twilio_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature)


@dataclass(frozen=True, kw_only=True, slots=True)
class TwilioSender:
    account_sid: str
    auth_token: str
    sms_from: str = ""
    whatsapp_from: str = ""
    api_url: str = "https://api.twilio.com"
    status_callback_url: str = ""
    timeout: float = 10.0
    name: str = "twilio"

    async def send(self, message: OutboundMessage) -> SentMessage:
        assert message.channel is not Channel.EMAIL, "Twilio sends SMS and WhatsApp only"
        form = self._form(message)
        url = f"{self.api_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(url, data=form,
                                             auth=(self.account_sid, self.auth_token))
        except httpx.HTTPError as error:
            raise DeliveryError(f"Twilio is unreachable ({type(error).__name__}).") from error
        body = _json(response)
        if response.status_code >= 400:
            code = body.get("code")
            raise DeliveryError(f"Twilio refused the message (error {code}).",
                                permanent=isinstance(code, int) and code in _PERMANENT)
        sid = body.get("sid")
        if not isinstance(sid, str) or not sid:
            raise DeliveryError("Twilio answered without a message sid.")
        return SentMessage(provider=self.name, message_id=sid, status=str(body.get("status", "")))

    def _form(self, message: OutboundMessage) -> dict[str, str]:
        if message.channel is Channel.WHATSAPP:
            if not self.whatsapp_from:
                raise DeliveryError("WhatsApp is not configured.", permanent=True)
            to, sender = f"whatsapp:{message.to}", f"whatsapp:{self.whatsapp_from}"
        else:
            if not self.sms_from:
                raise DeliveryError("SMS is not configured.", permanent=True)
            to, sender = message.to, self.sms_from
        form = {"To": to, "Body": message.body}
        form["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
        if self.status_callback_url:
            form["StatusCallback"] = self.status_callback_url
        return form


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
