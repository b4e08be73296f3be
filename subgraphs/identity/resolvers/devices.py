"""The device list: the account's signed-in sessions, revoked one at a time or all but this one."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import NotFoundError
from subgraphs.identity.resolvers._context import (
    client_ip,
    db_session,
    require_signed_in,
    revoke_tokens,
)
from subgraphs.identity.resolvers._second_factor import session_id
from subgraphs.identity.services import sessions as session_service
from subgraphs.identity.types.session import SessionType

__all__ = ["DevicesMutation", "DevicesQuery"]


@strawberry.type
class DevicesQuery:
    @strawberry.field(description="The signed-in account's live sessions, most recent first.")
    async def my_sessions(self, info: Info[Any, Any]) -> list[SessionType]:
        user_id = require_signed_in(info)
        async with db_session(info) as session:
            active = await session_service.list_sessions(session, user_id=user_id)
        current = session_id(info)
        return [SessionType.from_active(a, current_id=current) for a in active]


@strawberry.type
class DevicesMutation:
    @strawberry.mutation(description="Sign one session out (its refresh token stops working; "
                         "the account's access tokens stop within a second and the remaining "
                         "sessions refresh theirs).")
    async def revoke_session(self, info: Info[Any, Any], id: strawberry.ID) -> bool:
        user_id = require_signed_in(info)
        async with db_session(info) as session:
            live = await session_service.list_sessions(session, user_id=user_id)
            if str(id) not in {s.family_id for s in live}:
                # Another account's session is reported as missing too.
                raise NotFoundError("Session not found.", extensions={"sessionId": str(id)[:36]})
            # First: if the revocation cannot be written, nothing else is.
            await revoke_tokens(info, user_id)
            await session_service.revoke_sessions(
                session, user_id=user_id, family_id=str(id), ip=client_ip(info))
        return True

    @strawberry.mutation(description="Sign out every other session; answers how many ended. "
                         "This session stays (its access token is renewed by refreshToken).")
    async def revoke_other_sessions(self, info: Info[Any, Any]) -> int:
        user_id = require_signed_in(info)
        current = session_id(info)
        await revoke_tokens(info, user_id)
        async with db_session(info) as session:
            before = await session_service.list_sessions(session, user_id=user_id)
            await session_service.revoke_sessions(
                session, user_id=user_id, keep_family_id=current, ip=client_ip(info))
        return sum(1 for s in before if s.family_id != current)
