"""Audit log entries (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from subgraphs.identity import models
from subgraphs.identity.services.audit import AuditEventType as _AuditEventType
from subgraphs.identity.services.users import as_utc

__all__ = ["AuditEventType", "AuditEventTypeEnum"]

if TYPE_CHECKING:
    AuditEventTypeEnum = _AuditEventType
else:
    AuditEventTypeEnum = strawberry.enum(_AuditEventType, name="AuthAuditEventKind")


@strawberry.type(name="AuthAuditEvent", description="One authentication event.")
class AuditEventType:
    id: strawberry.ID
    kind: AuditEventTypeEnum
    user_id: strawberry.ID | None
    ip: str | None
    detail: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, event: models.AuditEvent) -> AuditEventType:
        return cls(
            id=strawberry.ID(event.id),
            kind=_AuditEventType(event.event_type),
            user_id=strawberry.ID(event.user_id) if event.user_id else None,
            ip=event.ip,
            detail=event.detail,
            created_at=as_utc(event.created_at),
        )
