"""The federated User entity (@key(fields: "id"))."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from shared.errors import BadUserInputError
from subgraphs.identity.services.users import Role, as_utc, user_roles
from subgraphs.identity.types.enums import Role as RoleEnum

if TYPE_CHECKING:
    from subgraphs.identity import models

__all__ = ["User"]


@strawberry.federation.type(keys=["id"], description="A Tributary account.")
class User:
    id: strawberry.ID
    handle: str
    display_name: str | None
    avatar_url: str | None
    bio: str | None
    roles: list[RoleEnum]
    verified: bool = strawberry.field(description="Verified badge, granted by admins.")
    created_at: datetime
    stored_email: strawberry.Private[str | None]
    stored_phone: strawberry.Private[str | None] = None
    stored_email_verified: strawberry.Private[bool] = False
    # Set when the user object is handed to the account itself (a sign-in payload), where the
    # request's caller is still anonymous.
    shown_to_owner: strawberry.Private[bool] = False

    @strawberry.federation.field(
        authenticated=True,
        description="Visible only to the account itself and to admins; null for everyone else."
    )
    def email(self, info: Info[Any, Any]) -> str | None:
        return self.stored_email if self._private_visible(info) else None

    @strawberry.field(
        description="E.164 phone number, proven by a code; only for the account itself and admins."
    )
    def phone(self, info: Info[Any, Any]) -> str | None:
        return self.stored_phone if self._private_visible(info) else None

    @strawberry.field(
        description="Whether the email was proven with a code; null for everyone but the account "
        "itself and admins."
    )
    def email_verified(self, info: Info[Any, Any]) -> bool | None:
        return self.stored_email_verified if self._private_visible(info) else None

    def _private_visible(self, info: Info[Any, Any]) -> bool:
        caller = info.context.caller
        return bool(self.shown_to_owner or caller.user_id == self.id
                    or caller.has_role(Role.ADMIN.value))

    @classmethod
    def from_model(cls, user: models.User, *, shown_to_owner: bool = False) -> User:
        return cls(
            id=strawberry.ID(user.id),
            handle=user.handle,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            bio=user.bio,
            roles=sorted(user_roles(user), key=list(Role).index),
            verified=user.verified,
            created_at=as_utc(user.created_at),
            stored_email=user.email,
            stored_phone=user.phone,
            stored_email_verified=user.email is not None and user.email_verified_at is not None,
            shown_to_owner=shown_to_owner,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info[Any, Any], id: strawberry.ID | None = None, **_fields: Any
    ) -> User | None:
        from subgraphs.identity.loaders import load_user

        if not isinstance(id, str) or not id:
            raise BadUserInputError("A User representation needs a string id.")
        user = await load_user(info, id)
        return cls.from_model(user) if user is not None else None
