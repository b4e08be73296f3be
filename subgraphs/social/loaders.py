"""Per-request DataLoaders: batch the per-row lookups of nested fields into one query each."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from shared.context import session_loader
from subgraphs.social.models import Circle, Post, UserStats
from subgraphs.social.services import blocks, circles, follows, posts, privacy, reactions

__all__ = [
    "load_blocked_by",
    "load_circle",
    "load_circle_role",
    "load_is_followed",
    "load_is_private",
    "load_media_ids",
    "load_my_reaction",
    "load_post",
    "load_requested_by",
    "load_stats",
]

async def load_stats(info: Info[Any, Any], user_id: str) -> UserStats:
    async def batch(session: Any, keys: list[str]) -> dict[str, UserStats]:
        return await follows.get_stats(session=session, user_ids=keys)

    return await session_loader(info, "stats", batch).load(user_id)  # type: ignore[no-any-return]


async def load_is_followed(info: Info[Any, Any], viewer: str, user_id: str) -> bool:
    async def batch(session: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
        result: dict[tuple[str, str], bool] = {}
        for follower in {k[0] for k in keys}:
            followed = await follows.followed_ids(
                session=session, follower_id=follower, candidates=[k[1] for k in keys if k[0] == follower]
            )
            result.update({(follower, u): u in followed for (f, u) in keys if f == follower})
        return result

    return bool(await session_loader(info, "is_followed", batch).load((viewer, user_id)))


async def load_media_ids(info: Info[Any, Any], post_id: str) -> list[str]:
    async def batch(session: Any, keys: list[str]) -> dict[str, list[str]]:
        return await posts.media_ids(session=session, post_ids=keys)

    return await session_loader(info, "media", batch).load(post_id) or []


async def load_my_reaction(info: Info[Any, Any], viewer: str, post_id: str) -> str | None:
    async def batch(session: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        viewer_id = keys[0][0]
        found = await reactions.my_reactions(session=session, user_id=viewer_id, post_ids=[k[1] for k in keys])
        return {(viewer_id, p): kind for p, kind in found.items()}

    # One viewer per request, so the batch always shares keys[0][0].
    return await session_loader(info, f"my_reaction:{viewer}", batch).load((viewer, post_id))  # type: ignore[no-any-return]


async def load_circle_role(info: Info[Any, Any], viewer: str, circle_id: str) -> str | None:
    async def batch(session: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        viewer_id = keys[0][0]
        found = await circles.circle_roles(session=session, user_id=viewer_id, circle_ids=[k[1] for k in keys])
        return {(viewer_id, c): role for c, role in found.items()}

    return await session_loader(info, f"circle_role:{viewer}", batch).load((viewer, circle_id))  # type: ignore[no-any-return]


async def load_circle(info: Info[Any, Any], circle_id: str) -> Circle | None:
    async def batch(session: Any, keys: list[str]) -> dict[str, Circle]:
        from sqlalchemy import select

        rows = (await session.execute(select(Circle).where(Circle.id.in_(keys)))).scalars()  # type: ignore[attr-defined]
        return {c.id: c for c in rows}

    return await session_loader(info, "circle", batch).load(circle_id)  # type: ignore[no-any-return]


async def load_post(info: Info[Any, Any], post_id: str) -> Post | None:
    async def batch(session: Any, keys: list[str]) -> dict[str, Post]:
        from sqlalchemy import select

        rows = (await session.execute(select(Post).where(Post.id.in_(keys)))).scalars()  # type: ignore[attr-defined]
        return {p.id: p for p in rows}

    return await session_loader(info, "post", batch).load(post_id)  # type: ignore[no-any-return]


async def load_is_private(info: Info[Any, Any], user_id: str) -> bool:
    async def batch(session: Any, keys: list[str]) -> dict[str, bool]:
        found = await privacy.private_ids(session=session, user_ids=keys)
        return {k: k in found for k in keys}

    return bool(await session_loader(info, "is_private", batch).load(user_id))


async def load_blocked_by(info: Info[Any, Any], viewer: str, user_id: str) -> bool:
    """Whether `viewer` blocked `user_id` (asked only for the viewer's own blocks)."""
    async def batch(session: Any, keys: list[str]) -> dict[str, bool]:
        found = await blocks.blocked_by_me(session=session, blocker_id=viewer, candidates=keys)
        return {k: k in found for k in keys}

    return bool(await session_loader(info, f"blocked_by:{viewer}", batch).load(user_id))


async def load_requested_by(info: Info[Any, Any], viewer: str, user_id: str) -> bool:
    """Whether `viewer` has a pending follow request to `user_id`."""
    async def batch(session: Any, keys: list[str]) -> dict[str, bool]:
        found = await privacy.requested_by(session=session, requester_id=viewer, candidates=keys)
        return {k: k in found for k in keys}

    return bool(await session_loader(info, f"requested_by:{viewer}", batch).load(user_id))
