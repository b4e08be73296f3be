"""Notifications of the caller."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON

from subgraphs.social.models import Notification as NotificationRow
from subgraphs.social.types.user import User

__all__ = ["Notification", "NotificationKind"]


@strawberry.enum
class NotificationKind(Enum):
    FOLLOW = "follow"
    REACTION = "reaction"
    COMMENT = "comment"
    MENTION = "mention"
    MESSAGE = "message"
    TIP = "tip"
    CASHOUT = "cashout"
    SUSPICIOUS_ACTIVITY = "suspicious_activity"
    RECONCILIATION_BREAK = "reconciliation_break"
    FOLLOW_REQUEST = "follow_request"
    FOLLOW_ACCEPTED = "follow_accepted"
    MESSAGE_REQUEST = "message_request"
    CONVERSATION_INVITE = "conversation_invite"


@strawberry.type
class Notification:
    id: strawberry.ID
    kind: NotificationKind
    subject_id: strawberry.ID | None = strawberry.field(
        description="The post, comment, message or user the notification is about."
    )
    data: JSON
    created_at: datetime
    read_at: datetime | None
    actor_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: NotificationRow) -> Notification:
        return cls(
            id=strawberry.ID(row.id), kind=NotificationKind(row.kind),
            subject_id=strawberry.ID(row.subject_id) if row.subject_id else None,
            data=orjson.loads(row.data), created_at=row.created_at, read_at=row.read_at,
            actor_id=row.actor_id,
        )

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Notification:
        """From a published notification (services.notifications.notification_payload)."""
        return cls(
            id=strawberry.ID(payload["id"]), kind=NotificationKind(payload["kind"]),
            subject_id=strawberry.ID(payload["subjectId"]) if payload["subjectId"] else None,
            data=orjson.loads(payload["data"]), created_at=datetime.fromisoformat(payload["createdAt"]),
            read_at=datetime.fromisoformat(payload["readAt"]) if payload["readAt"] else None,
            actor_id=payload["actorId"],
        )

    @strawberry.field
    def actor(self) -> User | None:
        return User(id=strawberry.ID(self.actor_id)) if self.actor_id else None
