"""Identity's internal API: user lookups and API key verification for the other services."""

from __future__ import annotations

from typing import Any

from shared.api_keys import API_KEY_VERIFY_PATH, caller_to_json
from shared.db import Database
from shared.errors import BadUserInputError, NotFoundError
from shared.internal import InternalRequest, InternalRoute
from shared.references import USER, lookup_ids
from subgraphs.identity.services.api_keys import resolve_api_key
from subgraphs.identity.services.users import get_users

__all__ = ["CALLERS", "internal_routes"]

# Every service that stores user ids or accepts API keys (the later subgraphs included).
CALLERS = frozenset({"social", "wallet", "content", "moderation", "markets", "gateway"})
def internal_routes(*, database: Database) -> list[InternalRoute]:
    async def lookup_users(request: InternalRequest) -> dict[str, Any]:
        ids = lookup_ids(request.body)
        async with database.session() as session:
            users = await get_users(session=session, ids=ids)
        return {"found": [u.id for u in users if u is not None]}

    async def verify_api_key(request: InternalRequest) -> dict[str, Any]:
        key = request.body.get("key")
        if not isinstance(key, str) or not key or len(key) > 256:
            raise BadUserInputError("key must be a non-empty string", extensions={"field": "key"})
        async with database.session() as session:
            caller = await resolve_api_key(session=session, key=key)
        if caller is None:
            raise NotFoundError("Unknown, revoked or expired API key")
        return {"caller": caller_to_json(caller)}

    return [
        InternalRoute(path=USER.path, handler=lookup_users, callers=CALLERS),
        InternalRoute(path=API_KEY_VERIFY_PATH, handler=verify_api_key, callers=CALLERS),
    ]
