"""Mutations of one-time codes: sign-in and sign-up, password reset, verifying and changing
email and phone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import BadUserInputError
from subgraphs.identity.messaging import Channel
from subgraphs.identity.resolvers._context import (
    auth_payload,
    client_ip,
    credential_guard,
    db_session,
    require_signed_in,
    revoke_tokens,
    runtime,
    user_agent,
)
from subgraphs.identity.resolvers._second_factor import require_second_factor, require_step_up
from subgraphs.identity.services import code_accounts
from subgraphs.identity.services import sessions as session_service
from subgraphs.identity.services._contacts import (
    mask_destination,
    normalize_destination,
    normalize_phone,
)
from subgraphs.identity.services.rate_limits import enforce_rate_limits
from subgraphs.identity.services.users import commit_unique
from subgraphs.identity.types import AuthPayload, User
from subgraphs.identity.types.codes import CodeChannel, CodeDelivery

__all__ = ["CodeMutation"]

_MAX_INPUT = 300


def _channel(channel: Any) -> Channel:
    return Channel(channel.value if hasattr(channel, "value") else channel)


def _destination(channel: Channel, value: str) -> str:
    if len(value) > _MAX_INPUT:
        raise BadUserInputError("destination is too long.",
                                extensions={"field": "destination", "reason": "TOO_LONG"})
    return normalize_destination(channel, value)


def _code(code: str) -> str:
    if len(code) > 64:
        raise BadUserInputError("code is too long.", extensions={"field": "code",
                                                                 "reason": "TOO_LONG"})
    return code


async def _limit_sends(info: Info[Any, Any], destination: str) -> None:
    """Codes sent per client address and per destination (RATE_LIMITED with retryAfter)."""
    rt = runtime(info)
    await enforce_rate_limits(info.context.kv, action="code", limits={
        "ip": (client_ip(info) or "unknown", rt.limit("code_per_ip")),
        "account": (destination, rt.limit("code_per_account")),
    })


@asynccontextmanager
async def _counted(info: Info[Any, Any]) -> AsyncIterator[None]:
    """A code check: a failure (any error) counts against the client's address."""
    attempt = await credential_guard(info, "code").start()
    yield
    await attempt.succeeded()


def _delivery(info: Info[Any, Any], channel: Channel, destination: str) -> CodeDelivery:
    return CodeDelivery(channel=channel, destination=mask_destination(destination),
                        expires_in=runtime(info).settings.code_ttl_seconds)


@strawberry.type
class CodeMutation:
    @strawberry.mutation(description="Send a sign-in code to a phone (SMS, WhatsApp) or email; "
                         "signInWithCode then signs in, or signs up a new account.")
    async def request_sign_in_code(
        self, info: Info[Any, Any], channel: CodeChannel, destination: str  # type: ignore[valid-type]
    ) -> CodeDelivery:
        kind = _channel(channel)
        target = _destination(kind, destination)
        await _limit_sends(info, target)
        rt = runtime(info)
        async with db_session(info) as session:
            await code_accounts.issue_code(
                session, policy=rt.code_policy, sender=rt.senders.for_channel(kind),
                purpose=code_accounts.Purpose.SIGN_IN, channel=kind, destination=target)
        return _delivery(info, kind, target)

    @strawberry.mutation(description="Sign in (or up, with an optional handle) with the code "
                         "sent to a phone or email.")
    async def sign_in_with_code(
        self,
        info: Info[Any, Any],
        channel: CodeChannel,  # type: ignore[valid-type]
        destination: str,
        code: str,
        handle: str | None = None,
    ) -> AuthPayload:
        kind = _channel(channel)
        target = _destination(kind, destination)
        rt = runtime(info)
        async with db_session(info) as session:
            async with _counted(info):
                user, _created = await code_accounts.sign_in_with_code(
                    session, policy=rt.code_policy, channel=kind, destination=target,
                    code=_code(code), handle=handle, ip=client_ip(info))
                await session.flush()
            await require_second_factor(info, session, user.id)
            issued = session_service.start_session(
                session, user=user, refresh_ttl=rt.refresh_ttl, ip=client_ip(info),
                user_agent=user_agent(info))
            await commit_unique(session, "Handle is already taken.")
        return auth_payload(info, issued)

    @strawberry.mutation(description="Send a password-reset code to the account's email or "
                         "phone. Answers the same whether or not an account has it.")
    async def request_password_reset(
        self, info: Info[Any, Any], channel: CodeChannel, destination: str  # type: ignore[valid-type]
    ) -> CodeDelivery:
        kind = _channel(channel)
        target = _destination(kind, destination)
        await _limit_sends(info, target)
        rt = runtime(info)
        async with db_session(info) as session:
            await code_accounts.request_password_reset(
                session, policy=rt.code_policy, sender=rt.senders.for_channel(kind),
                channel=kind, destination=target)
        return _delivery(info, kind, target)

    @strawberry.mutation(description="Set a new password with the reset code; every session "
                         "and access token of the account is revoked.")
    async def reset_password(
        self,
        info: Info[Any, Any],
        channel: CodeChannel,  # type: ignore[valid-type]
        destination: str,
        code: str,
        new_password: str,
    ) -> bool:
        kind = _channel(channel)
        target = _destination(kind, destination)
        if len(new_password) > 1024:
            raise BadUserInputError("newPassword is too long.",
                                    extensions={"field": "newPassword", "reason": "TOO_LONG"})
        rt = runtime(info)
        async with db_session(info) as session, _counted(info):
            user_id = await code_accounts.reset_password(
                session, policy=rt.code_policy, hasher=rt.hasher, channel=kind,
                destination=target, code=_code(code), new_password=new_password,
                ip=client_ip(info))
        await revoke_tokens(info, user_id)
        return True

    @strawberry.mutation(description="Send a code to the account's email to prove it.")
    async def request_email_verification(self, info: Info[Any, Any]) -> CodeDelivery:
        user_id = require_signed_in(info)
        rt = runtime(info)
        async with db_session(info) as session:
            user = await code_accounts.get_user(session=session, user_id=user_id)
            await _limit_sends(info, (user.email if user else None) or user_id)
            row = await code_accounts.request_email_verification(
                session, policy=rt.code_policy, sender=rt.senders.email, user_id=user_id)
        return _delivery(info, Channel.EMAIL, row.destination)

    @strawberry.mutation(description="Prove the account's email with the code sent to it.")
    async def verify_email(self, info: Info[Any, Any], code: str) -> User:
        user_id = require_signed_in(info)
        async with db_session(info) as session, _counted(info):
            user = await code_accounts.verify_email(
                session, policy=runtime(info).code_policy, user_id=user_id, code=_code(code),
                ip=client_ip(info))
        return User.from_model(user)

    @strawberry.mutation(description="Send a code to a new email; the email changes when "
                         "confirmEmailChange gets it. Needs a step-up with two-step on.")
    async def request_email_change(self, info: Info[Any, Any], email: str) -> CodeDelivery:
        return await _request_change(info, Channel.EMAIL, email)

    @strawberry.mutation(description="Confirm the new email with the code sent there.")
    async def confirm_email_change(self, info: Info[Any, Any], code: str) -> User:
        return await _confirm_change(info, email=True, code=code)

    @strawberry.mutation(description="Send a code to a new phone (SMS or WhatsApp); the phone "
                         "changes when confirmPhoneChange gets it. Needs a step-up with two-step on.")
    async def request_phone_change(
        self, info: Info[Any, Any], phone: str, channel: CodeChannel = Channel.SMS  # type: ignore[valid-type]
    ) -> CodeDelivery:
        kind = _channel(channel)
        if kind is Channel.EMAIL:
            raise BadUserInputError("A phone code goes by SMS or WHATSAPP.",
                                    extensions={"field": "channel", "reason": "INVALID"})
        if len(phone) > _MAX_INPUT:
            raise BadUserInputError("phone is too long.",
                                    extensions={"field": "phone", "reason": "TOO_LONG"})
        return await _request_change(info, kind, normalize_phone(phone))

    @strawberry.mutation(description="Confirm the new phone with the code sent there.")
    async def confirm_phone_change(self, info: Info[Any, Any], code: str) -> User:
        return await _confirm_change(info, email=False, code=code)


async def _request_change(info: Info[Any, Any], channel: Channel, value: str) -> CodeDelivery:
    user_id = require_signed_in(info)
    target = _destination(channel, value)
    rt = runtime(info)
    async with db_session(info) as session:
        await require_step_up(info, session, user_id)
        await _limit_sends(info, target)
        await code_accounts.request_contact_change(
            session, policy=rt.code_policy, sender=rt.senders.for_channel(channel),
            user_id=user_id, channel=channel, destination=target)
    return _delivery(info, channel, target)


async def _confirm_change(info: Info[Any, Any], *, email: bool, code: str) -> User:
    user_id = require_signed_in(info)
    async with db_session(info) as session, _counted(info):
        user = await code_accounts.confirm_contact_change(
            session, policy=runtime(info).code_policy, user_id=user_id, email=email,
            code=_code(code), ip=client_ip(info))
    return User.from_model(user)
