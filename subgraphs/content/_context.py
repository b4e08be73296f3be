"""Typed access to the request context (`shared.context.RequestContext`) for content resolvers."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import database, references, require_user, session, viewer_id
from subgraphs.content.runtime import ContentRuntime

__all__ = ["database", "references", "require_user", "runtime", "session", "viewer_id"]


def runtime(info: Info[Any, Any]) -> ContentRuntime:
    return info.context.extra["content"]  # type: ignore[no-any-return]
