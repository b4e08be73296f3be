"""What resolvers need from the request context: the runtime, the session, the caller, the IP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from shared.auth import Caller
from shared.context import client_address as shared_client_address
from shared.errors import ForbiddenError
from subgraphs.identity.runtime import IdentityRuntime
from subgraphs.identity.services.attempts import CredentialGuard
from subgraphs.identity.services.sessions import IssuedSession
from subgraphs.identity.services.users import Role, get_user, user_roles
from subgraphs.identity.types import AuthPayload, User

RUNTIME_KEY = "identity"
_RETAIN_MARGIN = 120.0

# Scopes an API key may carry that grant identity operations; "*" grants everything.
READ_SCOPES = frozenset({"*", "read", "identity:read", "identity:*"})
WRITE_SCOPES = frozenset({"*", "write", "identity:write", "identity:*"})
ADMIN_SCOPES = frozenset({"*", "identity:admin", "identity:*"})


def runtime(info: Info[Any, Any]) -> IdentityRuntime:
    return info.context.extra[RUNTIME_KEY]  # type: ignore[no-any-return]


def caller(info: Info[Any, Any]) -> Caller:
    return info.context.caller  # type: ignore[no-any-return]


@asynccontextmanager
async def db_session(info: Info[Any, Any]) -> AsyncIterator[AsyncSession]:
    async with info.context.database.session() as session:
        yield session


def client_ip(info: Info[Any, Any]) -> str | None:
    # The kit's one client address: the gateway's, proven by its credential, else the peer.
    return shared_client_address(info)


def user_agent(info: Info[Any, Any]) -> str | None:
    """The client's User-Agent, as the session list shows the device."""
    request = info.context.request
    return request.headers.get("user-agent") if request is not None else None


def credential_guard(info: Info[Any, Any], kind: str) -> CredentialGuard:
    """The failure budgets of this client for "password", "code" or "token" checks."""
    rt = runtime(info)
    limits = {"password": rt.password_limits, "code": rt.code_limits}.get(kind, rt.token_limits)
    return CredentialGuard(kv=info.context.kv, action=kind, limits=limits,
                           address=client_ip(info) or "unknown")


async def revoke_tokens(info: Info[Any, Any], user_id: str) -> None:
    """Refuse, everywhere within about a second, every access token `user_id` holds now."""
    rt = runtime(info)
    revocations = rt.verifier.revocations
    assert revocations is not None, "identity's verifier is built with revocations"
    # As long as any token could still be accepted: its lifetime plus verifiers' leeway.
    await revocations.revoke(user_id, retain_seconds=rt.issuer.access_ttl + _RETAIN_MARGIN)


def require_user(info: Info[Any, Any], *, scopes: frozenset[str] = READ_SCOPES) -> str:
    """The caller's user id; an API-key caller must also hold one of `scopes`."""
    who = caller(info)
    user_id = who.require_user()
    if who.api_key_id is not None and not who.scopes & scopes:
        raise ForbiddenError(
            f"API key lacks a scope for this operation (one of: {', '.join(sorted(scopes))})."
        )
    return user_id


def require_signed_in(info: Info[Any, Any]) -> str:
    """The caller's user id, refusing API keys: keys must not mint keys or change credentials."""
    who = caller(info)
    user_id = who.require_user()
    if who.api_key_id is not None:
        raise ForbiddenError("This operation needs a signed-in session, not an API key.")
    return user_id


async def require_admin(info: Info[Any, Any], session: AsyncSession) -> str:
    """The caller's id if the account is ADMIN now (read from the database, not the token)."""
    user_id = require_user(info, scopes=ADMIN_SCOPES)
    user = await get_user(session=session, user_id=user_id)
    if user is None or Role.ADMIN not in user_roles(user):
        raise ForbiddenError("Requires role ADMIN.")
    return user_id


def auth_payload(info: Info[Any, Any], issued: IssuedSession) -> AuthPayload:
    issuer = runtime(info).issuer
    token = issuer.issue_access_token(
        user_id=issued.user.id,
        roles=sorted(r.value for r in user_roles(issued.user)),
        extra={"sid": issued.family_id},
    )
    return AuthPayload(
        access_token=token,
        token_type="Bearer",
        expires_in=issuer.access_ttl,
        refresh_token=issued.refresh_token,
        user=User.from_model(issued.user, shown_to_owner=True),
    )
