"""API keys: created once (secret shown once), listed, revoked; stored as SHA-256 digests."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Caller
from shared.errors import ConflictError, NotFoundError
from subgraphs.identity.models import ApiKey, User, utcnow
from subgraphs.identity.security.secrets import hash_secret, new_api_key, parse_api_key
from subgraphs.identity.services._validation import bad, validate_scopes, validate_text
from subgraphs.identity.services.audit import AuditEventType, record_audit_event
from subgraphs.identity.services.users import as_utc

__all__ = [
    "MAX_KEYS_PER_USER",
    "CreatedApiKey",
    "api_key_scopes",
    "create_api_key",
    "list_api_keys",
    "resolve_api_key",
    "revoke_api_key",
]

MAX_KEYS_PER_USER = 25
MAX_EXPIRY_DAYS = 3650
# last_used_at is bookkeeping; writing it on every request would turn reads into writes.
_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str


def api_key_scopes(api_key: ApiKey) -> list[str]:
    return [s for s in api_key.scopes.split(" ") if s]


async def create_api_key(
    *,
    session: AsyncSession,
    user_id: str,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    ip: str | None = None,
) -> CreatedApiKey:
    """A new key; with `expires_in_days` it stops working that many days from now."""
    clean_name = validate_text("name", name, max_length=64)
    if not clean_name:
        raise bad("name", "An API key needs a name.", "EMPTY")
    clean_scopes = validate_scopes(scopes)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise bad("expiresInDays", f"expiresInDays must be between 1 and {MAX_EXPIRY_DAYS}.",
                  "OUT_OF_RANGE")
    active = await session.execute(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
    )
    if active.scalar_one() >= MAX_KEYS_PER_USER:
        raise ConflictError(
            f"At most {MAX_KEYS_PER_USER} active API keys per account; revoke one first."
        )
    prefix, secret = new_api_key()
    api_key = ApiKey(
        user_id=user_id,
        name=clean_name,
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=" ".join(clean_scopes),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(api_key)
    record_audit_event(
        session,
        AuditEventType.API_KEY_CREATED,
        user_id=user_id,
        ip=ip,
        detail=(f"key={api_key.id} prefix={prefix} scopes={api_key.scopes}"
                f" expires_in_days={expires_in_days}")[:500],
    )
    await session.commit()
    return CreatedApiKey(api_key=api_key, secret=secret)


async def list_api_keys(*, session: AsyncSession, user_id: str) -> list[ApiKey]:
    result = await session.execute(
        select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())  # type: ignore[arg-type,attr-defined]
    )
    return list(result.scalars())


async def revoke_api_key(
    *,
    session: AsyncSession,
    key_id: str,
    user_id: str,
    any_owner: bool = False,
    ip: str | None = None,
) -> ApiKey:
    """Revoke one key of `user_id` (any user's when `any_owner`, for admins); idempotent."""
    api_key = await session.get(ApiKey, key_id) if len(key_id) <= 36 else None
    if api_key is None or (api_key.user_id != user_id and not any_owner):
        # Someone else's key is reported as missing, so key ids cannot be probed.
        raise NotFoundError("API key not found.", extensions={"apiKeyId": key_id[:36]})
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        record_audit_event(
            session,
            AuditEventType.API_KEY_REVOKED,
            user_id=api_key.user_id,
            ip=ip,
            detail=f"key={api_key.id} by={user_id}",
        )
        await session.commit()
    return api_key


async def resolve_api_key(*, session: AsyncSession, key: str) -> Caller | None:
    """The caller an API key stands for, or None for an unknown, malformed, revoked or expired
    key. Every subgraph asks this (through identity's internal verify route)."""
    prefix = parse_api_key(key)
    if prefix is None:
        return None
    result = await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))  # type: ignore[arg-type]
    api_key = result.scalar_one_or_none()
    if api_key is None or api_key.revoked_at is not None:
        return None
    now = utcnow()
    if api_key.expires_at is not None and as_utc(api_key.expires_at) <= now:
        return None
    if not hmac.compare_digest(api_key.key_hash, hash_secret(key.strip())):
        return None
    user = await session.get(User, api_key.user_id)
    if user is None:
        return None
    if api_key.last_used_at is None or now - as_utc(api_key.last_used_at) > _TOUCH_INTERVAL:
        await session.execute(
            update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now)  # type: ignore[arg-type]
        )
        await session.commit()
    return Caller(
        user_id=user.id,
        roles=frozenset(r for r in user.roles.split(",") if r),
        scopes=frozenset(api_key_scopes(api_key)),
        api_key_id=api_key.id,
    )
