"""API keys as seen by their owner (the secret appears once, in CreatedApiKey)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.identity import models
from subgraphs.identity.services.api_keys import api_key_scopes
from subgraphs.identity.services.users import as_utc

__all__ = ["ApiKeyType", "CreatedApiKeyType"]


@strawberry.type(name="ApiKey")
class ApiKeyType:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="Public part of the key, to recognise it.")
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working; null: never.")

    @classmethod
    def from_model(cls, key: models.ApiKey) -> ApiKeyType:
        return cls(
            id=strawberry.ID(key.id),
            name=key.name,
            prefix=key.prefix,
            scopes=api_key_scopes(key),
            created_at=as_utc(key.created_at),
            last_used_at=as_utc(key.last_used_at) if key.last_used_at else None,
            revoked_at=as_utc(key.revoked_at) if key.revoked_at else None,
            expires_at=as_utc(key.expires_at) if key.expires_at else None,
        )


@strawberry.type(name="CreatedApiKey")
class CreatedApiKeyType:
    api_key: ApiKeyType
    secret: str = strawberry.field(
        description="The key itself; shown only now. Send as `Authorization: ApiKey <secret>`."
    )
