"""A signed-in session (one refresh family) as its owner sees it in the device list."""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.identity.services.sessions import ActiveSession

__all__ = ["SessionType"]


@strawberry.type(name="Session", description="A signed-in device of the account.")
class SessionType:
    id: strawberry.ID
    signed_in_at: datetime
    last_used_at: datetime = strawberry.field(
        description="The latest sign-in or token refresh of this session.")
    expires_at: datetime
    user_agent: str | None = strawberry.field(description="The device's User-Agent.")
    client_address: str | None = strawberry.field(
        description="Client address at the latest sign-in or refresh.")
    current: bool = strawberry.field(description="The session of this request.")

    @classmethod
    def from_active(cls, active: ActiveSession, *, current_id: str) -> SessionType:
        return cls(id=strawberry.ID(active.family_id), signed_in_at=active.signed_in_at,
                   last_used_at=active.last_used_at, expires_at=active.expires_at,
                   user_agent=active.user_agent, client_address=active.ip,
                   current=active.family_id == current_id)
