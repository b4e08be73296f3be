"""Query root of identity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from shared.errors import BadUserInputError, NotFoundError
from subgraphs.identity.loaders import load_user, user_loader
from subgraphs.identity.resolvers._context import (
    db_session,
    require_admin,
    require_signed_in,
    require_user,
)
from subgraphs.identity.resolvers.devices import DevicesQuery
from subgraphs.identity.services import api_keys as api_key_service
from subgraphs.identity.services import wallets as wallet_service
from subgraphs.identity.services.audit import AuditEventType as _Kind
from subgraphs.identity.services.audit import list_audit_events
from subgraphs.identity.services.users import get_user_by_handle
from subgraphs.identity.types import (
    ApiKeyType,
    AuditEventType,
    AuditEventTypeEnum,
    User,
    WalletType,
)

MAX_IDS = 100


@strawberry.type
class Query(DevicesQuery):
    @strawberry.field(description="The signed-in account.")
    async def me(self, info: Info[Any, Any]) -> User:
        user = await load_user(info, require_user(info))
        if user is None:
            raise NotFoundError("The account of this token no longer exists.")
        return User.from_model(user)

    @strawberry.field(description="One account by id or by handle (exactly one of them).")
    async def user(
        self, info: Info[Any, Any], id: strawberry.ID | None = None, handle: str | None = None
    ) -> User | None:
        if (id is None) == (handle is None):
            raise BadUserInputError("Pass exactly one of id or handle.")
        if id is not None:
            found = await load_user(info, str(id))
        else:
            async with db_session(info) as session:
                found = await get_user_by_handle(session=session, handle=handle or "")
        return User.from_model(found) if found is not None else None

    @strawberry.field(
        directives=[ListSize(assumed_size=100)],
        description="Accounts by id, in order; null for unknown ids (at most 100).")
    async def users(self, info: Info[Any, Any], ids: list[strawberry.ID]) -> list[User | None]:
        if len(ids) > MAX_IDS:
            raise BadUserInputError(f"At most {MAX_IDS} ids per call.", extensions={"field": "ids"})
        found = await user_loader(info).load_many([str(i) for i in ids])
        return [User.from_model(u) if u is not None else None for u in found]

    @strawberry.federation.field(
        directives=[ListSize(assumed_size=20)],
        
        authenticated=True,
        description="The signed-in account's API keys (never their secrets).")
    async def api_keys(self, info: Info[Any, Any]) -> list[ApiKeyType]:
        user_id = require_signed_in(info)
        async with db_session(info) as session:
            keys = await api_key_service.list_api_keys(session=session, user_id=user_id)
        return [ApiKeyType.from_model(k) for k in keys]

    @strawberry.federation.field(
        directives=[ListSize(assumed_size=10)],
        authenticated=True, description="Wallets linked to the signed-in account.")
    async def my_wallets(self, info: Info[Any, Any]) -> list[WalletType]:
        user_id = require_user(info)
        async with db_session(info) as session:
            wallets = await wallet_service.list_wallets(session=session, user_id=user_id)
        return [WalletType.from_model(w) for w in wallets]

    @strawberry.federation.field(
        directives=[ListSize(slicing_arguments=["first"])],
        
        authenticated=True,
        description="Authentication audit log, newest first (admins only).")
    async def audit_events(
        self,
        info: Info[Any, Any],
        user_id: strawberry.ID | None = None,
        kind: AuditEventTypeEnum | None = None,
        before: datetime | None = None,
        first: int = 50,
    ) -> list[AuditEventType]:
        if not 1 <= first <= 200:
            raise BadUserInputError("first must be between 1 and 200.", extensions={"field": "first"})
        async with db_session(info) as session:
            await require_admin(info, session)
            events = await list_audit_events(
                session=session,
                user_id=str(user_id) if user_id is not None else None,
                event_type=_Kind(kind) if kind is not None else None,
                before=before,
                limit=first,
            )
        return [AuditEventType.from_model(e) for e in events]
