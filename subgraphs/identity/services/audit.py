"""The audit log of authentication events (written inside the business transaction)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.identity.models import AuditEvent

__all__ = ["AuditEventType", "list_audit_events", "record_audit_event"]


class AuditEventType(enum.StrEnum):
    REGISTERED = "REGISTERED"
    LOGIN_SUCCEEDED = "LOGIN_SUCCEEDED"
    LOGIN_FAILED = "LOGIN_FAILED"
    TOKEN_REFRESHED = "TOKEN_REFRESHED"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"
    LOGOUT = "LOGOUT"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"
    PASSWORD_CHANGE_FAILED = "PASSWORD_CHANGE_FAILED"
    ROLES_CHANGED = "ROLES_CHANGED"
    VERIFIED_CHANGED = "VERIFIED_CHANGED"
    API_KEY_CREATED = "API_KEY_CREATED"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    WALLET_SIGN_IN = "WALLET_SIGN_IN"
    WALLET_SIGN_IN_FAILED = "WALLET_SIGN_IN_FAILED"
    WALLET_LINKED = "WALLET_LINKED"
    WALLET_UNLINKED = "WALLET_UNLINKED"
    CODE_SIGN_IN = "CODE_SIGN_IN"
    PASSWORD_RESET = "PASSWORD_RESET"
    EMAIL_VERIFIED = "EMAIL_VERIFIED"
    EMAIL_CHANGED = "EMAIL_CHANGED"
    PHONE_CHANGED = "PHONE_CHANGED"
    TOTP_ENABLED = "TOTP_ENABLED"
    TOTP_DISABLED = "TOTP_DISABLED"
    SECOND_FACTOR_FAILED = "SECOND_FACTOR_FAILED"
    RECOVERY_CODE_USED = "RECOVERY_CODE_USED"
    SESSION_REVOKED = "SESSION_REVOKED"


def record_audit_event(
    session: AsyncSession,
    event_type: AuditEventType,
    *,
    user_id: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add an audit row to `session`; it commits (or rolls back) with the surrounding work."""
    event = AuditEvent(
        event_type=event_type.value,
        user_id=user_id,
        ip=ip[:64] if ip else None,
        detail=detail[:500] if detail else None,
    )
    session.add(event)
    return event


async def list_audit_events(
    *,
    session: AsyncSession,
    user_id: str | None = None,
    event_type: AuditEventType | None = None,
    before: datetime | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """Newest first; `before` pages backwards by creation time."""
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)  # type: ignore[arg-type]
    if event_type is not None:
        query = query.where(AuditEvent.event_type == event_type.value)  # type: ignore[arg-type]
    if before is not None:
        query = query.where(AuditEvent.created_at < before)  # type: ignore[arg-type]
    query = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(  # type: ignore[attr-defined]
        max(1, min(limit, 200))
    )
    return list((await session.execute(query)).scalars())
