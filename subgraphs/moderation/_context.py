"""Typed access to the request context (`shared.context.RequestContext`) for moderation resolvers."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import references, require_user, session, viewer_id
from shared.errors import BadUserInputError
from subgraphs.moderation.config import ModerationSettings

__all__ = ["MODERATOR_ROLES", "page_size", "references", "require_moderator", "require_user",
           "session", "settings", "viewer_id"]

MODERATOR_ROLES = ("MODERATOR", "ADMIN")


def settings(info: Info[Any, Any]) -> ModerationSettings:
    value = info.context.settings
    return value if isinstance(value, ModerationSettings) else ModerationSettings()


def require_moderator(info: Info[Any, Any], *roles: str) -> str:
    """The caller's id if it holds one of `roles` (default MODERATOR or ADMIN); else FORBIDDEN."""
    info.context.caller.require_role(*(roles or MODERATOR_ROLES))
    return require_user(info)


def page_size(info: Info[Any, Any], first: int) -> int:
    maximum = settings(info).queue_page_size
    if not 1 <= first <= maximum:
        raise BadUserInputError(f"`first` must be between 1 and {maximum}",
                                extensions={"argument": "first"})
    return first
