"""Typed access to the request context (`shared.context.RequestContext`) for resolvers."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import kv, references, require_user, session, viewer_id
from shared.errors import BadUserInputError
from subgraphs.social.config import SocialSettings
from subgraphs.social.services.limits import check_rate

__all__ = ["kv", "limit_writes", "page_size", "references", "require_user", "session", "settings",
           "viewer_id"]


def settings(info: Info[Any, Any]) -> SocialSettings:
    value = info.context.settings
    return value if isinstance(value, SocialSettings) else SocialSettings()


async def limit_writes(info: Info[Any, Any], action: str) -> str:
    """The caller's id, after counting one `action` against its write rate limit."""
    user_id = require_user(info)
    config = settings(info)
    if action == "message":
        limit, window = config.message_rate_limit, 10.0
    else:
        limit, window = config.write_rate_limit, 60.0
    await check_rate(kv(info), action=action, user_id=user_id, limit=limit, window_seconds=window)
    return user_id


def page_size(info: Info[Any, Any], first: int) -> int:
    maximum = settings(info).max_page_size
    if not 1 <= first <= maximum:
        raise BadUserInputError(f"`first` must be between 1 and {maximum}", extensions={"argument": "first"})
    return first
