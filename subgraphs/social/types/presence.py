"""Presence of a user: online/away with an expiry, offline otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry

from subgraphs.social.services.realtime import Presence as PresenceState
from subgraphs.social.types.user import User

__all__ = ["Presence", "PresenceStatus"]


@strawberry.enum
class PresenceStatus(Enum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@strawberry.type
class Presence:
    status: PresenceStatus
    expires_at: datetime | None
    user_id: strawberry.Private[str]

    @classmethod
    def from_state(cls, state: PresenceState) -> Presence:
        expires = datetime.fromtimestamp(state.expires_at, UTC) if state.expires_at is not None else None
        return cls(status=PresenceStatus(state.status), expires_at=expires, user_id=state.user_id)

    @strawberry.field
    def user(self) -> User | None:  # identity's entity: nullable (docs/entity-references.md)
        return User(id=strawberry.ID(self.user_id))
