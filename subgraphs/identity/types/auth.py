"""The payload of every sign-in: an access token, a refresh token and the account."""

from __future__ import annotations

import strawberry

from subgraphs.identity.types.user import User

__all__ = ["AuthPayload"]


@strawberry.type(description="Tokens of a new or refreshed session.")
class AuthPayload:
    access_token: str = strawberry.field(description="EdDSA JWT; send as Authorization: Bearer.")
    token_type: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    refresh_token: str = strawberry.field(
        description="Single-use; exchange with refreshToken. Reuse revokes the whole session."
    )
    user: User
