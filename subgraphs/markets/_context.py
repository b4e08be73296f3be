"""Typed access to the request context for markets resolvers."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import database, references, require_user, session, viewer_id
from shared.errors import UnauthenticatedError
from shared.internal import InternalClient
from subgraphs.markets.config import MarketsSettings

__all__ = ["client", "database", "references", "require_user", "session", "settings",
           "user_authorization", "viewer_id"]


def settings(info: Info[Any, Any]) -> MarketsSettings:
    return info.context.settings  # type: ignore[no-any-return]


def client(info: Info[Any, Any]) -> InternalClient:
    return references(info).client


def user_authorization(info: Info[Any, Any]) -> str:
    """Exactly the Authorization value the user sent: the wallet judges it for itself."""
    value = info.context.request.headers.get("authorization", "")
    if not value:
        raise UnauthenticatedError("Moving money needs your own credential",
                                   extensions={"reason": "USER_PROOF_REQUIRED"})
    return str(value)
