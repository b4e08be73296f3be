"""Sign-in with a wallet: single-use expiring challenges, signature checks, account linking."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import ConflictError, NotFoundError, UnauthenticatedError
from subgraphs.identity.models import User, Wallet, WalletChallenge, utcnow
from subgraphs.identity.security.secrets import new_nonce
from subgraphs.identity.security.sign_in_messages import SignInRequest
from subgraphs.identity.security.wallet_signatures import (
    Chain,
    normalize_address,
    verify_wallet_signature,
)
from subgraphs.identity.services._validation import handle_key
from subgraphs.identity.services.audit import AuditEventType, record_audit_event
from subgraphs.identity.services.users import as_utc, commit_unique

if TYPE_CHECKING:
    from shared.redis import KeyValue

__all__ = [
    "MAX_WALLETS_PER_USER",
    "bind_challenge",
    "check_challenge_client",
    "client_fingerprint",
    "create_challenge",
    "link_wallet",
    "list_wallets",
    "sign_in_with_wallet",
    "unlink_wallet",
]

MAX_WALLETS_PER_USER = 10
_MAX_NONCE_LENGTH = 64


async def create_challenge(
    *,
    session: AsyncSession,
    chain: Chain,
    address: str,
    ttl: timedelta,
    domain: str,
    uri: str,
    chain_id: str,
) -> WalletChallenge:
    """Store and return a challenge (an EIP-4361 / SIWS message) to sign within `ttl`."""
    canonical = normalize_address(chain, address)
    now = utcnow().replace(microsecond=0)
    nonce = new_nonce()
    request = SignInRequest(domain=domain, uri=uri, chain=chain, address=canonical,
                            chain_id=chain_id, nonce=nonce, issued_at=now, expires_at=now + ttl)
    challenge = WalletChallenge(
        nonce=nonce,
        chain=chain.value,
        address=canonical,
        message=request.to_message(),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(challenge)
    # Expired challenges have no further use; sweeping them here keeps the table small.
    await session.execute(
        delete(WalletChallenge).where(WalletChallenge.expires_at < now - timedelta(hours=1))  # type: ignore[arg-type]
    )
    await session.commit()
    return challenge


# A challenge answers only the client that asked for it: its address and user agent, hashed.
# Kept in the KV an hour past the challenge's expiry, so that late answers still read EXPIRED.
_BINDING_MARGIN = timedelta(hours=1)


def client_fingerprint(address: str | None, user_agent: str | None) -> str:
    seen = f"{address or 'unknown'}\n{(user_agent or '')[:512]}"
    return hashlib.sha256(seen.encode("utf-8", "replace")).hexdigest()


def _binding_key(nonce: str) -> str:
    return f"wallet-challenge-client:{nonce[:_MAX_NONCE_LENGTH]}"


async def bind_challenge(kv: KeyValue, *, nonce: str, client: str, ttl: timedelta) -> None:
    await kv.set(_binding_key(nonce), client, ttl=(ttl + _BINDING_MARGIN).total_seconds())


async def check_challenge_client(kv: KeyValue, *, nonce: str, client: str) -> None:
    """UNAUTHENTICATED unless `client` asked for the challenge `nonce`; a mismatch spends it."""
    bound = await kv.get(_binding_key(nonce))
    if bound is None:
        # Unknown, long expired, or its binding lost: never accepted unbound.
        raise UnauthenticatedError("Unknown wallet challenge.", extensions={"reason": "UNKNOWN_NONCE"})
    if not secrets.compare_digest(bound, client):
        await kv.delete(_binding_key(nonce))
        raise UnauthenticatedError(
            "This wallet challenge was requested by another client; request a new one.",
            extensions={"reason": "CLIENT_MISMATCH"},
        )


async def _consume_challenge(
    session: AsyncSession, *, nonce: str, signature: str, ip: str | None, user_id: str | None
) -> WalletChallenge:
    """Spend the challenge `nonce` and check `signature` over its message.

    The nonce is spent even when the signature is wrong (committed), so every nonce gets exactly
    one attempt; a malformed signature is refused before anything is written.
    """
    challenge = await session.get(WalletChallenge, nonce) if len(nonce) <= _MAX_NONCE_LENGTH else None
    if challenge is None:
        raise UnauthenticatedError("Unknown wallet challenge.", extensions={"reason": "UNKNOWN_NONCE"})
    if challenge.used_at is not None:
        raise UnauthenticatedError(
            "Wallet challenge was already used; request a new one.",
            extensions={"reason": "NONCE_REUSED"},
        )
    if as_utc(challenge.expires_at) <= utcnow():
        raise UnauthenticatedError(
            "Wallet challenge has expired; request a new one.", extensions={"reason": "EXPIRED"}
        )
    chain = Chain(challenge.chain)
    valid = verify_wallet_signature(chain, challenge.address, challenge.message, signature)
    spent = await session.execute(
        update(WalletChallenge)
        .where(WalletChallenge.nonce == nonce, WalletChallenge.used_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise UnauthenticatedError(
            "Wallet challenge was already used; request a new one.",
            extensions={"reason": "NONCE_REUSED"},
        )
    if not valid:
        record_audit_event(
            session,
            AuditEventType.WALLET_SIGN_IN_FAILED,
            user_id=user_id,
            ip=ip,
            detail=f"chain={chain.value} address={challenge.address}",
        )
        await session.commit()
        raise UnauthenticatedError(
            "Wallet signature does not match the challenge.", extensions={"reason": "BAD_SIGNATURE"}
        )
    return challenge


async def _wallet(session: AsyncSession, chain: str, address: str) -> Wallet | None:
    result = await session.execute(
        select(Wallet).where(Wallet.chain == chain, Wallet.address == address)  # type: ignore[arg-type]
    )
    return result.scalar_one_or_none()


async def sign_in_with_wallet(
    *, session: AsyncSession, nonce: str, signature: str, ip: str | None = None
) -> User:
    """The account linked to the signing wallet; a first sign-in creates one (no password).

    The caller starts the session and commits; the challenge is spent in the same transaction.
    """
    challenge = await _consume_challenge(session, nonce=nonce, signature=signature, ip=ip, user_id=None)
    wallet = await _wallet(session, challenge.chain, challenge.address)
    if wallet is not None:
        user = await session.get(User, wallet.user_id)
        assert user is not None, "wallet without user"
    else:
        user = User(handle="", handle_key="", roles="USER")
        user.handle = await _free_wallet_handle(session, Chain(challenge.chain), challenge.address)
        user.handle_key = handle_key(user.handle)
        session.add(user)
        # No ORM relationships tie the tables together, so the unit of work does not order the
        # inserts by foreign key: write the user first.
        try:
            await session.flush()
        except IntegrityError as exc:  # a concurrent sign-in took the generated handle
            await session.rollback()
            raise ConflictError("Could not create the wallet account; retry.") from exc
        session.add(Wallet(user_id=user.id, chain=challenge.chain, address=challenge.address))
    record_audit_event(
        session,
        AuditEventType.WALLET_SIGN_IN,
        user_id=user.id,
        ip=ip,
        detail=f"chain={challenge.chain} address={challenge.address} new={wallet is None}",
    )
    return user


async def _free_wallet_handle(session: AsyncSession, chain: Chain, address: str) -> str:
    stem = ("eth_" + address[2:10] if chain is Chain.ETHEREUM else "sol_" + address[:8]).lower()
    candidate = stem
    for _ in range(5):
        taken = await session.execute(select(User.id).where(User.handle_key == candidate))  # type: ignore[call-overload]
        if taken.first() is None:
            return candidate
        candidate = f"{stem}_{secrets.token_hex(3)}"
    return f"{stem}_{secrets.token_hex(6)}"


async def link_wallet(
    *, session: AsyncSession, user_id: str, nonce: str, signature: str, ip: str | None = None
) -> Wallet:
    """Attach the signing wallet to `user_id`; idempotent for the same user, CONFLICT for another."""
    challenge = await _consume_challenge(session, nonce=nonce, signature=signature, ip=ip, user_id=user_id)
    existing = await _wallet(session, challenge.chain, challenge.address)
    if existing is not None:
        await session.commit()  # the challenge stays spent
        if existing.user_id == user_id:
            return existing
        raise ConflictError("This wallet is already linked to another account.")
    count = await session.execute(
        select(func.count()).select_from(Wallet).where(Wallet.user_id == user_id)  # type: ignore[arg-type]
    )
    if count.scalar_one() >= MAX_WALLETS_PER_USER:
        await session.commit()
        raise ConflictError(f"At most {MAX_WALLETS_PER_USER} wallets per account.")
    wallet = Wallet(user_id=user_id, chain=challenge.chain, address=challenge.address)
    session.add(wallet)
    record_audit_event(
        session,
        AuditEventType.WALLET_LINKED,
        user_id=user_id,
        ip=ip,
        detail=f"chain={challenge.chain} address={challenge.address}",
    )
    await commit_unique(session, "This wallet is already linked to an account.")
    return wallet


async def list_wallets(*, session: AsyncSession, user_id: str) -> list[Wallet]:
    result = await session.execute(
        select(Wallet).where(Wallet.user_id == user_id).order_by(Wallet.created_at)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def unlink_wallet(
    *, session: AsyncSession, user_id: str, chain: Chain, address: str, ip: str | None = None
) -> None:
    """Detach a wallet; refused when it is the account's last way to sign in."""
    canonical = normalize_address(chain, address)
    wallet = await _wallet(session, chain.value, canonical)
    if wallet is None or wallet.user_id != user_id:
        raise NotFoundError("Wallet not linked to this account.")
    user = await session.get(User, user_id)
    others = [w for w in await list_wallets(session=session, user_id=user_id) if w.id != wallet.id]
    if user is not None and user.password_hash is None and not others:
        raise ConflictError("Cannot unlink the only way to sign in; set a password or link another wallet first.")
    await session.delete(wallet)
    record_audit_event(
        session, AuditEventType.WALLET_UNLINKED, user_id=user_id, ip=ip, detail=f"chain={chain.value} address={canonical}"
    )
    await session.commit()
