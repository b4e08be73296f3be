"""Mutation root of identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import BadUserInputError
from subgraphs.identity.resolvers._context import (
    WRITE_SCOPES,
    auth_payload,
    caller,
    client_ip,
    credential_guard,
    db_session,
    require_admin,
    require_signed_in,
    require_user,
    revoke_tokens,
    runtime,
    user_agent,
)
from subgraphs.identity.resolvers._second_factor import require_second_factor, require_step_up
from subgraphs.identity.resolvers.codes import CodeMutation
from subgraphs.identity.resolvers.devices import DevicesMutation
from subgraphs.identity.resolvers.two_step import TwoStepMutation
from subgraphs.identity.security.wallet_signatures import Chain as _Chain
from subgraphs.identity.security.wallet_signatures import normalize_address
from subgraphs.identity.services import api_keys as api_key_service
from subgraphs.identity.services import sessions as session_service
from subgraphs.identity.services import users as user_service
from subgraphs.identity.services import wallets as wallet_service
from subgraphs.identity.services.rate_limits import enforce_rate_limits
from subgraphs.identity.types import (
    ApiKeyType,
    AuthPayload,
    Chain,
    CreatedApiKeyType,
    Role,
    User,
    WalletChallengeType,
    WalletType,
)

# Anything longer than this in a credential field is refused before any work is done.
_MAX_CREDENTIAL = 1024


@strawberry.input
class RegisterInput:
    handle: str
    password: str
    email: str | None = None
    display_name: str | None = None


@strawberry.input
class LoginInput:
    login: str = strawberry.field(description="Handle or email.")
    password: str


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET


def _given(value: Any) -> Any:
    return user_service.UNCHANGED if value is strawberry.UNSET else value


def _bounded(field: str, value: str) -> str:
    if len(value) > _MAX_CREDENTIAL:
        raise BadUserInputError(f"{field} is too long.", extensions={"field": field, "reason": "TOO_LONG"})
    return value


async def _limit(info: Info[Any, Any], action: str, account: str | None) -> None:
    rt = runtime(info)
    await enforce_rate_limits(
        info.context.kv,
        action=action,
        limits={
            "ip": (client_ip(info) or "unknown", rt.limit(f"{action}_per_ip")),
            "account": (account, rt.limit(f"{action}_per_account")),
        },
    )


@asynccontextmanager
async def _counted(info: Info[Any, Any]) -> AsyncIterator[None]:
    """A check of a high-entropy credential: a failure (any error) counts against the client."""
    attempt = await credential_guard(info, "token").start()
    yield
    await attempt.succeeded()


def _client(info: Info[Any, Any]) -> str:
    """Who asks for and answers wallet challenges: client address and user agent."""
    request = info.context.request
    agent = request.headers.get("user-agent") if request is not None else None
    return wallet_service.client_fingerprint(client_ip(info), agent)


@strawberry.type
class Mutation(CodeMutation, TwoStepMutation, DevicesMutation):
    @strawberry.mutation(description="Create an account and sign it in.")
    async def register(self, info: Info[Any, Any], input: RegisterInput) -> AuthPayload:
        handle = _bounded("handle", input.handle)
        _bounded("password", input.password)
        await _limit(info, "register", handle[:30])
        rt = runtime(info)
        bootstrap = rt.settings.bootstrap_admin_handle if rt.settings.environment != "prod" else None
        async with db_session(info) as session:
            user = await user_service.register_user(
                session=session,
                hasher=rt.hasher,
                handle=handle,
                password=input.password,
                email=input.email,
                display_name=input.display_name,
                bootstrap_admin_handle=bootstrap,
                ip=client_ip(info),
            )
            issued = session_service.start_session(
                session, user=user, refresh_ttl=rt.refresh_ttl, ip=client_ip(info),
                user_agent=user_agent(info))
            await session.commit()
        return auth_payload(info, issued)

    @strawberry.mutation(description="Sign in with handle (or email) and password.")
    async def login(self, info: Info[Any, Any], input: LoginInput) -> AuthPayload:
        login = _bounded("login", input.login)
        _bounded("password", input.password)
        rt = runtime(info)
        async with db_session(info) as session:
            issued = await session_service.login(
                session=session,
                hasher=rt.hasher,
                login=login,
                password=input.password,
                refresh_ttl=rt.refresh_ttl,
                ip=client_ip(info),
                guard=credential_guard(info, "password"),
                second_factor=lambda user: require_second_factor(info, session, user.id),
                user_agent=user_agent(info),
            )
        return auth_payload(info, issued)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens. Each refresh token works once."
    )
    async def refresh_token(self, info: Info[Any, Any], refresh_token: str) -> AuthPayload:
        async with _counted(info), db_session(info) as session:
            issued = await session_service.refresh_session(
                session=session,
                refresh_token=refresh_token,
                refresh_ttl=runtime(info).refresh_ttl,
                ip=client_ip(info),
                user_agent=user_agent(info),
            )
        return auth_payload(info, issued)

    @strawberry.mutation(
        description="End the session of `refreshToken` (works without an access token), or, "
        "signed in, every session with allSessions. False when no such session was found. "
        "Every access token the account holds stops working within about a second (other "
        "sessions refresh theirs)."
    )
    async def logout(
        self, info: Info[Any, Any], refresh_token: str | None = None, all_sessions: bool = False
    ) -> bool:
        user_id = None
        if all_sessions or refresh_token is None or caller(info).is_authenticated:
            user_id = require_signed_in(info)
            # First: if the revocation cannot be written, nothing else is.
            await revoke_tokens(info, user_id)
        async with db_session(info) as session:
            ended = await session_service.logout(
                session=session,
                user_id=user_id,
                refresh_token=refresh_token,
                all_sessions=all_sessions,
                ip=client_ip(info),
            )
        if ended is not None and ended != user_id:
            await revoke_tokens(info, ended)
        return ended is not None

    @strawberry.mutation(description="Edit the signed-in account's profile; omitted fields stay.")
    async def update_profile(self, info: Info[Any, Any], input: UpdateProfileInput) -> User:
        user_id = require_user(info, scopes=WRITE_SCOPES)
        async with db_session(info) as session:
            user = await user_service.update_profile(
                session=session,
                user_id=user_id,
                display_name=_given(input.display_name),
                avatar_url=_given(input.avatar_url),
                bio=_given(input.bio),
                email=_given(input.email),
            )
        return User.from_model(user)

    @strawberry.mutation(
        description="Change the password (currentPassword may be omitted only by accounts that "
        "have none yet, e.g. created by wallet sign-in); every session is signed out."
    )
    async def change_password(
        self, info: Info[Any, Any], new_password: str, current_password: str | None = None
    ) -> bool:
        user_id = require_signed_in(info)
        _bounded("currentPassword", current_password or "")
        _bounded("newPassword", new_password)
        async with db_session(info) as session:
            await user_service.change_password(
                session=session,
                hasher=runtime(info).hasher,
                user_id=user_id,
                current_password=current_password,
                new_password=new_password,
                ip=client_ip(info),
                guard=credential_guard(info, "password"),
            )
        await revoke_tokens(info, user_id)
        return True

    @strawberry.federation.mutation(
        authenticated=True,
        description="Replace an account's roles (admins only; USER is implied).")
    async def set_roles(self, info: Info[Any, Any], user_id: strawberry.ID, roles: list[Role]) -> User:
        async with db_session(info) as session:
            actor = await require_admin(info, session)
            user = await user_service.set_roles(
                session=session,
                actor_id=actor,
                user_id=str(user_id),
                roles=[user_service.Role(r) for r in roles],
                ip=client_ip(info),
            )
        # Tokens carry roles: the old ones must not outlive the change.
        await revoke_tokens(info, user.id)
        return User.from_model(user)

    @strawberry.federation.mutation(
        authenticated=True,
        description="Grant or remove the verified badge (admins only).")
    async def set_verified(
        self, info: Info[Any, Any], user_id: strawberry.ID, verified: bool
    ) -> User:
        async with db_session(info) as session:
            actor = await require_admin(info, session)
            user = await user_service.set_verified(
                session=session, actor_id=actor, user_id=str(user_id), verified=verified, ip=client_ip(info)
            )
        return User.from_model(user)

    @strawberry.mutation(description="Create an API key; its secret is returned only this once. "
                         "With expiresInDays (1-3650) it stops working then, in every subgraph. "
                         "With two-step on it needs a step-up.")
    async def create_api_key(
        self,
        info: Info[Any, Any],
        name: str,
        scopes: list[str],
        expires_in_days: int | None = None,
    ) -> CreatedApiKeyType:
        user_id = require_signed_in(info)
        async with db_session(info) as session:
            await require_step_up(info, session, user_id)
            created = await api_key_service.create_api_key(
                session=session, user_id=user_id, name=name, scopes=scopes,
                expires_in_days=expires_in_days, ip=client_ip(info)
            )
        return CreatedApiKeyType(api_key=ApiKeyType.from_model(created.api_key), secret=created.secret)

    @strawberry.mutation(description="Revoke one of the signed-in account's API keys.")
    async def revoke_api_key(self, info: Info[Any, Any], id: strawberry.ID) -> ApiKeyType:
        user_id = require_signed_in(info)
        async with db_session(info) as session:
            key = await api_key_service.revoke_api_key(
                session=session, key_id=str(id), user_id=user_id, ip=client_ip(info)
            )
        return ApiKeyType.from_model(key)

    @strawberry.mutation(description="Start a wallet sign-in: returns the message to sign.")
    async def wallet_challenge(
        self, info: Info[Any, Any], chain: Chain, address: str
    ) -> WalletChallengeType:
        _bounded("address", address)
        canonical = normalize_address(_Chain(chain), address)
        await _limit(info, "challenge", f"{chain}:{canonical}")
        settings = runtime(info).settings
        ttl = timedelta(seconds=settings.wallet_challenge_ttl_seconds)
        chain_id = (str(settings.wallet_ethereum_chain_id) if chain is Chain.ETHEREUM
                    else settings.wallet_solana_cluster)
        async with db_session(info) as session:
            challenge = await wallet_service.create_challenge(
                session=session,
                chain=_Chain(chain),
                address=canonical,
                ttl=ttl,
                domain=settings.wallet_domain,
                uri=settings.wallet_uri,
                chain_id=chain_id,
            )
        await wallet_service.bind_challenge(
            info.context.kv, nonce=challenge.nonce, client=_client(info), ttl=ttl)
        return WalletChallengeType.from_model(challenge)

    @strawberry.mutation(
        description="Finish a wallet sign-in with the signed challenge; a new wallet gets an account."
    )
    async def sign_in_with_wallet(
        self, info: Info[Any, Any], nonce: str, signature: str
    ) -> AuthPayload:
        _bounded("signature", signature)
        rt = runtime(info)
        async with db_session(info) as session:
            async with _counted(info):
                await wallet_service.check_challenge_client(
                    info.context.kv, nonce=nonce, client=_client(info))
                user = await wallet_service.sign_in_with_wallet(
                    session=session, nonce=nonce, signature=signature, ip=client_ip(info)
                )
                await session.flush()
            await require_second_factor(info, session, user.id)
            issued = session_service.start_session(
                session, user=user, refresh_ttl=rt.refresh_ttl, ip=client_ip(info),
                user_agent=user_agent(info))
            await user_service.commit_unique(session, "Could not create the wallet account; retry.")
        return auth_payload(info, issued)

    @strawberry.mutation(description="Link the wallet that signed the challenge to this account.")
    async def link_wallet(self, info: Info[Any, Any], nonce: str, signature: str) -> WalletType:
        user_id = require_signed_in(info)
        _bounded("signature", signature)
        async with _counted(info), db_session(info) as session:
            await wallet_service.check_challenge_client(
                info.context.kv, nonce=nonce, client=_client(info))
            wallet = await wallet_service.link_wallet(
                session=session, user_id=user_id, nonce=nonce, signature=signature, ip=client_ip(info)
            )
        return WalletType.from_model(wallet)

    @strawberry.mutation(description="Unlink a wallet (not the account's last way to sign in).")
    async def unlink_wallet(self, info: Info[Any, Any], chain: Chain, address: str) -> bool:
        user_id = require_signed_in(info)
        _bounded("address", address)
        async with db_session(info) as session:
            await wallet_service.unlink_wallet(
                session=session, user_id=user_id, chain=_Chain(chain), address=address, ip=client_ip(info)
            )
        return True
