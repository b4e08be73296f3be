"""Feeds (home, circle, trending): keyset pages, cached in the KV and invalidated on writes.

Cache keys carry a generation number; a write bumps the generations it affects, so stale pages are
never read again and simply expire with their short TTL. Home feeds use one generation per viewer,
circle feeds one per circle, trending one global generation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.redis import KeyValue
from subgraphs.social.models import CircleMember, Follow, Post
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after

__all__ = [
    "circle_feed",
    "home_feed",
    "invalidate_engagement",
    "invalidate_for_post",
    "invalidate_home",
    "trending_feed",
]

_GEN_TTL = 86_400  # generations outlive every cached page by far


def _home_gen(user_id: str) -> str:
    return f"feedgen:home:{user_id}"


def _circle_gen(circle_id: str) -> str:
    return f"feedgen:circle:{circle_id}"


_TRENDING_GEN = "feedgen:trending"


async def invalidate_home(kv: KeyValue, user_ids: Iterable[str]) -> None:
    for user_id in set(user_ids):
        await kv.incr(_home_gen(user_id), ttl=_GEN_TTL)


async def invalidate_for_post(kv: KeyValue, *, post: Post, audience: Iterable[str]) -> None:
    """A post appeared or went away: every feed that can show it is stale."""
    await invalidate_home(kv, audience)
    if post.circle_id is not None:
        await kv.incr(_circle_gen(post.circle_id), ttl=_GEN_TTL)
    if post.visibility == "public":
        await kv.incr(_TRENDING_GEN, ttl=_GEN_TTL)


async def invalidate_engagement(kv: KeyValue, *, post: Post) -> None:
    """Counts changed: pages embedding the post's counts are stale. Home feeds of the audience
    are not bumped here (a fan-out per reaction); their short TTL bounds the staleness."""
    if post.circle_id is not None:
        await kv.incr(_circle_gen(post.circle_id), ttl=_GEN_TTL)
    if post.visibility == "public":
        await kv.incr(_TRENDING_GEN, ttl=_GEN_TTL)


def _post_to_json(post: Post) -> dict[str, Any]:
    data = post.model_dump()
    data["created_at"] = post.created_at.isoformat()
    return data


def _post_from_json(data: dict[str, Any]) -> Post:
    return Post(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


async def _cached(kv: KeyValue, key: str | None, ttl: int, load: Any) -> Page[Post]:
    if key is not None and ttl > 0:
        raw = await kv.get(key)
        if raw is not None:
            data = orjson.loads(raw)
            return Page(
                items=tuple(_post_from_json(p) for p in data["items"]),
                cursors=tuple(data["cursors"]),
                has_next_page=data["has_next_page"],
            )
    page: Page[Post] = await load()
    if key is not None and ttl > 0:
        blob = {
            "items": [_post_to_json(p) for p in page.items],
            "cursors": list(page.cursors),
            "has_next_page": page.has_next_page,
        }
        await kv.set(key, orjson.dumps(blob), ttl=ttl)
    return page


async def _cache_key(kv: KeyValue, gen_key: str, name: str, first: int, after: str | None) -> str:
    gen = await kv.get(gen_key)
    gen_text = gen.decode() if isinstance(gen, bytes) else str(gen or 0)
    return f"feed:{name}:{gen_text}:{first}:{after or ''}"


async def home_feed(
    *, session: AsyncSession, kv: KeyValue, viewer_id: str, first: int, after: str | None = None, ttl: int = 15
) -> Page[Post]:
    """Posts of followed authors (public/followers), of the viewer's circles, and the viewer's own."""
    if after is not None:
        decode_cursor("home", after, (datetime, str))  # reject bad cursors before any cache lookup
    followed = exists().where(Follow.follower_id == viewer_id, Follow.followee_id == Post.author_id)
    in_circle = exists().where(CircleMember.user_id == viewer_id, CircleMember.circle_id == Post.circle_id)
    from subgraphs.social.services.posts import not_blocked_by_author, shown_clause

    query = select(Post).where(
        or_(
            Post.author_id == viewer_id,
            and_(Post.visibility.in_(("public", "followers")), followed, shown_clause()),  # type: ignore[attr-defined]
            and_(Post.visibility == "circle", in_circle, not_blocked_by_author(viewer_id), shown_clause()),
        )
    )
    key = await _cache_key(kv, _home_gen(viewer_id), f"home:{viewer_id}", first, after)
    return await _cached(kv, key, ttl, lambda: _by_recency(session, query, "home", first, after))


async def circle_feed(
    *, session: AsyncSession, kv: KeyValue, viewer_id: str, circle_id: str, first: int,
    after: str | None = None, ttl: int = 15,
) -> Page[Post]:
    from subgraphs.social.services.circles import require_role

    # Membership is checked on every read; only the page itself is shared through the cache.
    await require_role(session=session, user_id=viewer_id, circle_id=circle_id)
    if after is not None:
        decode_cursor("circle", after, (datetime, str))
    from subgraphs.social.services.posts import shown_clause

    # The page is shared by every member: held posts stay out (their authors see them elsewhere).
    query = select(Post).where(Post.circle_id == circle_id, shown_clause())
    key = await _cache_key(kv, _circle_gen(circle_id), f"circle:{circle_id}", first, after)
    page = await _cached(kv, key, ttl, lambda: _by_recency(session, query, "circle", first, after))
    return await _without_blockers(session, viewer_id, page)


async def _without_blockers(session: AsyncSession, viewer_id: str, page: Page[Post]) -> Page[Post]:
    """The shared page minus posts whose authors blocked the viewer (the page is cached for
    every member, so this filter runs per viewer after the cache). Cursors stay valid."""
    from subgraphs.social.services.blocks import blockers_among

    hidden = await blockers_among(session=session, viewer_id=viewer_id, author_ids=[p.author_id for p in page.items])
    if not hidden:
        return page
    kept = [(p, c) for p, c in zip(page.items, page.cursors, strict=True) if p.author_id not in hidden]
    # A hidden last post only moves end_cursor back one kept post: the next page re-reads
    # from there, so nothing is skipped.
    return Page(items=tuple(p for p, _ in kept), cursors=tuple(c for _, c in kept),
                has_next_page=page.has_next_page)


async def trending_feed(
    *, session: AsyncSession, kv: KeyValue, first: int, after: str | None = None, ttl: int = 15
) -> Page[Post]:
    """Public posts by time-decayed engagement (see posts.hot_score)."""
    values = decode_cursor("trending", after, (float, str)) if after is not None else None

    async def load() -> Page[Post]:
        query = select(Post).where(Post.visibility == "public", Post.moderation_state == "visible")
        if values is not None:
            query = query.where(keyset_after([Post.hot_score, Post.id], list(values), descending=True))
        query = query.order_by(Post.hot_score.desc(), Post.id.desc()).limit(first + 1)  # type: ignore[attr-defined]
        rows = list((await session.execute(query)).scalars())
        items = rows[:first]
        return Page(
            items=tuple(items),
            cursors=tuple(encode_cursor("trending", p.hot_score, p.id) for p in items),
            has_next_page=len(rows) > first,
        )

    key = await _cache_key(kv, _TRENDING_GEN, "trending", first, after)
    return await _cached(kv, key, ttl, load)


async def _by_recency(session: AsyncSession, query: Any, kind: str, first: int, after: str | None) -> Page[Post]:
    from subgraphs.social.services.posts import page_by_recency

    return await page_by_recency(session, query, kind, first, after)
