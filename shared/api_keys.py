"""API keys on every subgraph: identity verifies each key over its internal API, briefly cached.

Identity owns the keys (only it can check a secret against its hash); the other services ask it
once per key every `ttl` seconds, so a revoked key stops working everywhere within that time.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from shared.auth import Caller
from shared.errors import NotFoundError
from shared.internal import InternalClient

__all__ = ["API_KEY_VERIFY_PATH", "RemoteApiKeys", "caller_from_json", "caller_to_json"]

API_KEY_VERIFY_PATH = "/internal/api-keys/verify"


def caller_to_json(caller: Caller) -> dict[str, Any]:
    return {"userId": caller.user_id, "roles": sorted(caller.roles),
            "scopes": sorted(caller.scopes), "apiKeyId": caller.api_key_id}


def caller_from_json(data: dict[str, Any]) -> Caller:
    return Caller(user_id=str(data["userId"]), roles=frozenset(data.get("roles", [])),
                  scopes=frozenset(data.get("scopes", [])), api_key_id=data.get("apiKeyId"))


@dataclass
class RemoteApiKeys:
    """An `ApiKeyResolver` that asks identity; callable as `await keys(secret)`."""

    client: InternalClient
    ttl: float = 10.0
    size: int = 4096
    _cache: OrderedDict[str, tuple[Caller, float]] = field(default_factory=OrderedDict)

    async def __call__(self, key: str) -> Caller | None:
        # The secret itself is never kept in memory longer than the request.
        digest = hashlib.sha256(key.encode()).hexdigest()
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            answer = await self.client.call("identity", API_KEY_VERIFY_PATH, {"key": key})
        except NotFoundError:
            self._cache.pop(digest, None)
            return None
        caller = caller_from_json(answer["caller"])
        self._cache[digest] = (caller, now + self.ttl)
        self._cache.move_to_end(digest)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return caller
