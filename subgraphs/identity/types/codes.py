"""Payloads of one-time codes and two-step verification."""

from __future__ import annotations

import strawberry

from subgraphs.identity.messaging import Channel

__all__ = ["CodeChannel", "CodeDelivery", "StepUpPayload", "TotpSetupType"]

CodeChannel = strawberry.enum(Channel, name="CodeChannel",
                              description="Where a one-time code is sent.")


@strawberry.type(description="A code on its way (the destination masked).")
class CodeDelivery:
    channel: CodeChannel  # type: ignore[valid-type]
    destination: str = strawberry.field(description="Masked, e.g. +15*******67 or a***@x.org.")
    expires_in: int = strawberry.field(description="Seconds the code stays valid.")


@strawberry.type(description="A TOTP secret awaiting its first code (enableTotp).")
class TotpSetupType:
    secret: str = strawberry.field(description="Base32, for manual entry.")
    otpauth_uri: str = strawberry.field(description="otpauth://totp/... for a QR code.")


@strawberry.type(description="A fresh second factor for this session.")
class StepUpPayload:
    expires_in: int = strawberry.field(description="Seconds the step-up lasts.")
