"""SQLModel tables of the identity subgraph (never returned from GraphQL directly)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "ApiKey",
    "AuditEvent",
    "IdentityModel",
    "OneTimeCode",
    "RecoveryCode",
    "RefreshToken",
    "TotpFactor",
    "User",
    "Wallet",
    "WalletChallenge",
    "metadata",
    "new_id",
    "utcnow",
]


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


# Deterministic constraint names keep alembic migrations and the models in step on both dialects.
_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class IdentityModel(SQLModel, registry=registry(metadata=sa.MetaData(naming_convention=_NAMING))):
    """Base of identity's tables: their own MetaData, so other subgraphs' tables never mix in."""


metadata = IdentityModel.metadata

# Timestamps are stored timezone-aware; SQLite keeps them as text and hands back naive values,
# so services compare through `as_utc`.
_TS = sa.DateTime(timezone=True)


class User(IdentityModel, table=True):
    __tablename__ = "identity_users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    handle: str = Field(max_length=30)
    # Uniqueness is case-insensitive: "Alice" and "alice" are the same handle.
    handle_key: str = Field(max_length=30, sa_column_kwargs={"unique": True}, index=False)
    display_name: str | None = Field(default=None, max_length=64)
    avatar_url: str | None = Field(default=None, max_length=2048)
    bio: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=254, sa_column_kwargs={"unique": True})
    password_hash: str | None = Field(default=None, max_length=255)
    # Comma-separated role names; a tiny fixed set, read far more often than written.
    roles: str = Field(default="USER", max_length=100)
    verified: bool = Field(default=False)
    # E.164 ("+15551234567"); proven by a code when set.
    phone: str | None = Field(default=None, max_length=16, unique=True, index=True)
    email_verified_at: datetime | None = Field(default=None, sa_type=_TS)
    phone_verified_at: datetime | None = Field(default=None, sa_type=_TS)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class RefreshToken(IdentityModel, table=True):
    __tablename__ = "identity_refresh_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    # All tokens rotated from one login share a family; reuse of any revokes the family.
    family_id: str = Field(max_length=36, index=True)
    user_id: str = Field(foreign_key="identity_users.id", max_length=36, index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    expires_at: datetime = Field(sa_type=_TS)
    used_at: datetime | None = Field(default=None, sa_type=_TS)
    revoked_at: datetime | None = Field(default=None, sa_type=_TS)
    # Who held the session when this token was issued (sign-in or refresh): the device list.
    user_agent: str | None = Field(default=None, max_length=300)
    ip: str | None = Field(default=None, max_length=64)


class ApiKey(IdentityModel, table=True):
    __tablename__ = "identity_api_keys"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="identity_users.id", max_length=36, index=True)
    name: str = Field(max_length=64)
    # The public lookup part of the key (shown in listings); the secret is only hashed.
    prefix: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    key_hash: str = Field(max_length=64)
    scopes: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    last_used_at: datetime | None = Field(default=None, sa_type=_TS)
    revoked_at: datetime | None = Field(default=None, sa_type=_TS)
    expires_at: datetime | None = Field(default=None, sa_type=_TS)


class Wallet(IdentityModel, table=True):
    __tablename__ = "identity_wallets"
    __table_args__ = (sa.UniqueConstraint("chain", "address"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="identity_users.id", max_length=36, index=True)
    chain: str = Field(max_length=16)
    address: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class WalletChallenge(IdentityModel, table=True):
    __tablename__ = "identity_wallet_challenges"

    nonce: str = Field(primary_key=True, max_length=64)
    chain: str = Field(max_length=16)
    address: str = Field(max_length=64)
    message: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    expires_at: datetime = Field(sa_type=_TS)
    used_at: datetime | None = Field(default=None, sa_type=_TS)


class AuditEvent(IdentityModel, table=True):
    __tablename__ = "identity_audit_events"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    event_type: str = Field(max_length=40, index=True)
    user_id: str | None = Field(default=None, max_length=36, index=True)
    ip: str | None = Field(default=None, max_length=64)
    # Short free-form context ("handle=alice", "api_key=...") that never holds secrets.
    detail: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS, index=True)


class OneTimeCode(IdentityModel, table=True):
    """A code sent to a phone or email; only its keyed hash is kept."""

    __tablename__ = "identity_one_time_codes"
    __table_args__ = (sa.Index("ix_identity_one_time_codes_lookup", "purpose", "destination"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    purpose: str = Field(max_length=24)
    channel: str = Field(max_length=16)
    destination: str = Field(max_length=254)
    # The account the code acts for (verification, changes, reset); None for sign-in/sign-up.
    user_id: str | None = Field(default=None, max_length=36, index=True)
    code_hash: str = Field(max_length=64)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    expires_at: datetime = Field(sa_type=_TS)
    used_at: datetime | None = Field(default=None, sa_type=_TS)
    provider: str | None = Field(default=None, max_length=16)
    provider_message_id: str | None = Field(default=None, max_length=100, index=True)
    delivery_status: str | None = Field(default=None, max_length=32)


class TotpFactor(IdentityModel, table=True):
    __tablename__ = "identity_totp_factors"

    user_id: str = Field(foreign_key="identity_users.id", primary_key=True, max_length=36)
    # The base32 seed must be read back to check codes, so it is sealed (security/sealed.py),
    # not hashed.
    secret: str = Field(max_length=128)
    confirmed_at: datetime | None = Field(default=None, sa_type=_TS)
    # The newest 30-second step accepted: a code is never accepted twice.
    last_step: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class RecoveryCode(IdentityModel, table=True):
    __tablename__ = "identity_recovery_codes"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="identity_users.id", max_length=36, index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    used_at: datetime | None = Field(default=None, sa_type=_TS)
