"""Mutations of two-step verification: TOTP setup, completing a sign-in, step-up."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import BadUserInputError
from subgraphs.identity.resolvers._context import (
    auth_payload,
    client_ip,
    credential_guard,
    db_session,
    require_signed_in,
    runtime,
    user_agent,
)
from subgraphs.identity.resolvers._second_factor import (
    count_pending_failure,
    mark_stepped_up,
    pending_user,
    session_id,
    take_pending_sign_in,
)
from subgraphs.identity.services import second_factors
from subgraphs.identity.services import sessions as session_service
from subgraphs.identity.services.users import get_user
from subgraphs.identity.types import AuthPayload
from subgraphs.identity.types.codes import StepUpPayload, TotpSetupType

__all__ = ["TwoStepMutation"]


def _code(code: str) -> str:
    if len(code) > 64:
        raise BadUserInputError("code is too long.", extensions={"field": "code",
                                                                 "reason": "TOO_LONG"})
    return code


async def _check(info: Info[Any, Any], user_id: str, code: str) -> None:
    """A second factor of `user_id`, counted against the client's code-failure budget."""
    attempt = await credential_guard(info, "code").start()
    async with db_session(info) as session:
        await second_factors.check_second_factor(
            session, pepper=runtime(info).code_pepper, user_id=user_id, code=_code(code),
            ip=client_ip(info))
    await attempt.succeeded()


@strawberry.type
class TwoStepMutation:
    @strawberry.mutation(description="Start two-step verification: a TOTP secret to add to an "
                         "authenticator app; enableTotp with its first code turns it on.")
    async def setup_totp(self, info: Info[Any, Any]) -> TotpSetupType:
        user_id = require_signed_in(info)
        rt = runtime(info)
        async with db_session(info) as session:
            user = await get_user(session=session, user_id=user_id)
            assert user is not None, "signed-in account exists"
            setup = await second_factors.begin_totp(
                session, pepper=rt.code_pepper, user_id=user_id, account_name=user.handle,
                issuer=rt.settings.totp_issuer)
        return TotpSetupType(secret=setup.secret, otpauth_uri=setup.uri)

    @strawberry.mutation(description="Turn two-step verification on with the authenticator's "
                         "code; answers the recovery codes, shown only this once.")
    async def enable_totp(self, info: Info[Any, Any], code: str) -> list[str]:
        user_id = require_signed_in(info)
        attempt = await credential_guard(info, "code").start()
        async with db_session(info) as session:
            codes = await second_factors.enable_totp(
                session, pepper=runtime(info).code_pepper, user_id=user_id, code=_code(code),
                ip=client_ip(info))
        await attempt.succeeded()
        await mark_stepped_up(info, user_id, session_id(info))
        return codes

    @strawberry.mutation(description="Turn two-step verification off (a TOTP or recovery code).")
    async def disable_totp(self, info: Info[Any, Any], code: str) -> bool:
        user_id = require_signed_in(info)
        attempt = await credential_guard(info, "code").start()
        async with db_session(info) as session:
            await second_factors.disable_totp(
                session, pepper=runtime(info).code_pepper, user_id=user_id, code=_code(code),
                ip=client_ip(info))
        await attempt.succeeded()
        return True

    @strawberry.mutation(description="New recovery codes (the old ones stop working); needs a "
                         "TOTP or recovery code.")
    async def regenerate_recovery_codes(self, info: Info[Any, Any], code: str) -> list[str]:
        user_id = require_signed_in(info)
        await _check(info, user_id, code)
        async with db_session(info) as session:
            return await second_factors.regenerate_recovery_codes(
                session, pepper=runtime(info).code_pepper, user_id=user_id)

    @strawberry.mutation(description="Finish a sign-in that answered SECOND_FACTOR_REQUIRED, "
                         "with its secondFactorToken and a TOTP or recovery code.")
    async def complete_sign_in(
        self, info: Info[Any, Any], second_factor_token: str, code: str
    ) -> AuthPayload:
        user_id = await pending_user(info, second_factor_token)
        try:
            await _check(info, user_id, code)
        except Exception:
            await count_pending_failure(info, second_factor_token)
            raise
        if not await take_pending_sign_in(info, second_factor_token):
            # A concurrent completion took it first.
            await pending_user(info, second_factor_token)
        rt = runtime(info)
        async with db_session(info) as session:
            user = await get_user(session=session, user_id=user_id)
            assert user is not None, "pending sign-in of an existing account"
            issued = session_service.start_session(
                session, user=user, refresh_ttl=rt.refresh_ttl, ip=client_ip(info),
                user_agent=user_agent(info))
            await session.commit()
        # The second factor was given just now: this session starts stepped up.
        await mark_stepped_up(info, user_id, issued.family_id)
        return auth_payload(info, issued)

    @strawberry.mutation(description="Give a fresh second factor (TOTP or recovery code) for "
                         "this session: API key creation and email/phone changes need one.")
    async def step_up(self, info: Info[Any, Any], code: str) -> StepUpPayload:
        user_id = require_signed_in(info)
        await _check(info, user_id, code)
        return StepUpPayload(expires_in=await mark_stepped_up(info, user_id, session_id(info)))
