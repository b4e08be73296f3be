"""Sign-ins waiting for their second factor, and step-up: a fresh second factor per session."""

from __future__ import annotations

import secrets
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from shared.errors import UnauthenticatedError
from subgraphs.identity.resolvers._context import runtime
from subgraphs.identity.security.secrets import hash_secret
from subgraphs.identity.services.second_factors import totp_enabled

__all__ = ["mark_stepped_up", "require_second_factor", "require_step_up", "session_id",
           "take_pending_sign_in"]

_PENDING = "2fa:pending:"
_FAILED = "2fa:failed:"
_STEP_UP = "2fa:stepup:"
_MAX_PENDING_FAILURES = 5


async def require_second_factor(info: Info[Any, Any], session: AsyncSession, user_id: str) -> None:
    """Pass when the account has no second factor; else commit what the first factor spent
    and refuse with SECOND_FACTOR_REQUIRED and a token for `completeSignIn`."""
    if not await totp_enabled(session, user_id):
        return
    await session.commit()
    token = "sf_" + secrets.token_urlsafe(32)
    ttl = runtime(info).settings.second_factor_ttl_seconds
    await info.context.kv.set(_PENDING + hash_secret(token), user_id, ttl=ttl)
    raise UnauthenticatedError(
        "This account needs its second factor: call completeSignIn with the token and a code.",
        extensions={"reason": "SECOND_FACTOR_REQUIRED", "secondFactorToken": token,
                    "expiresIn": ttl},
    )


async def pending_user(info: Info[Any, Any], token: str) -> str:
    user_id = await info.context.kv.get(_PENDING + hash_secret(token[:200]))
    if user_id is None:
        raise UnauthenticatedError("The sign-in expired or was completed; sign in again.",
                                   extensions={"reason": "SECOND_FACTOR_EXPIRED"})
    return str(user_id)


async def take_pending_sign_in(info: Info[Any, Any], token: str) -> bool:
    """Spend the pending sign-in (True once; a concurrent completion gets False)."""
    return bool(await info.context.kv.delete(_PENDING + hash_secret(token[:200])) == 1)


async def count_pending_failure(info: Info[Any, Any], token: str) -> None:
    """A wrong code for a pending sign-in; the fifth ends it (sign in again)."""
    key = hash_secret(token[:200])
    ttl = runtime(info).settings.second_factor_ttl_seconds
    if await info.context.kv.incr(_FAILED + key, ttl=ttl) >= _MAX_PENDING_FAILURES:
        await info.context.kv.delete(_PENDING + key)


def session_id(info: Info[Any, Any]) -> str:
    """The sign-in (refresh family, `sid` claim) of the caller's access token."""
    request = info.context.request
    header = request.headers.get("authorization", "") if request is not None else ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return "none"
    # The kit verified this very token before the resolver ran; only its claims are read here.
    claims = jwt.decode(token.strip(), options={"verify_signature": False})
    sid = claims.get("sid")
    return sid if isinstance(sid, str) and sid else "none"


async def mark_stepped_up(info: Info[Any, Any], user_id: str, sid: str) -> int:
    ttl = runtime(info).settings.step_up_ttl_seconds
    await info.context.kv.set(f"{_STEP_UP}{user_id}:{sid}", "1", ttl=ttl)
    return ttl


async def require_step_up(info: Info[Any, Any], session: AsyncSession, user_id: str) -> None:
    """Refuse (STEP_UP_REQUIRED) unless this session gave a second factor within the last
    minutes; an account without a second factor has nothing to step up with and passes."""
    if not await totp_enabled(session, user_id):
        return
    if await info.context.kv.get(f"{_STEP_UP}{user_id}:{session_id(info)}") is None:
        raise UnauthenticatedError(
            "This needs a fresh second factor: call stepUp with a code first.",
            extensions={"reason": "STEP_UP_REQUIRED"},
        )
