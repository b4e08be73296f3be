"""Circles: private groups with members and roles (owner, admin, member)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ConflictError, ForbiddenError, NotFoundError
from shared.redis import KeyValue
from subgraphs.social.models import Circle, CircleMember
from subgraphs.social.services import feeds
from subgraphs.social.services._pagination import Page, decode_cursor, encode_cursor, keyset_after
from subgraphs.social.services._validation import check_plain, check_ref_ids

__all__ = [
    "ROLES",
    "add_member",
    "circle_roles",
    "create_circle",
    "delete_circle",
    "get_circle",
    "list_members",
    "list_my_circles",
    "remove_member",
    "require_role",
    "set_member_role",
]

ROLES = ("owner", "admin", "member")
_RANK = {"member": 1, "admin": 2, "owner": 3}


def _check_name(name: str) -> str:
    name = check_plain(name, argument="name").strip()
    if not 1 <= len(name) <= 100:
        raise BadUserInputError("Circle name must be 1-100 characters", extensions={"argument": "name"})
    return name


async def create_circle(*, session: AsyncSession, owner_id: str, name: str) -> Circle:
    circle = Circle(name=_check_name(name), owner_id=owner_id, members_count=1)
    session.add(circle)
    await session.flush()
    session.add(CircleMember(circle_id=circle.id, user_id=owner_id, role="owner"))
    await session.commit()
    return circle


async def circle_roles(*, session: AsyncSession, user_id: str, circle_ids: Sequence[str]) -> dict[str, str]:
    """The caller's role in each of `circle_ids` it belongs to."""
    query = select(CircleMember.circle_id, CircleMember.role).where(
        CircleMember.user_id == user_id, CircleMember.circle_id.in_(circle_ids)  # type: ignore[attr-defined]
    )
    return {c: r for c, r in (await session.execute(query)).all()}


async def require_role(*, session: AsyncSession, user_id: str, circle_id: str, minimum: str = "member") -> str:
    """The caller's role in the circle, at least `minimum`; circles are private, so a
    non-member learns nothing (NOT_FOUND) and a member short of the role gets FORBIDDEN."""
    role = (await circle_roles(session=session, user_id=user_id, circle_ids=[circle_id])).get(circle_id)
    if role is None:
        raise NotFoundError("Circle not found", extensions={"circleId": circle_id})
    if _RANK[role] < _RANK[minimum]:
        raise ForbiddenError(f"This needs the {minimum} role in the circle")
    return role


async def get_circle(*, session: AsyncSession, viewer_id: str, circle_id: str) -> Circle:
    await require_role(session=session, user_id=viewer_id, circle_id=circle_id)
    circle = await session.get(Circle, circle_id)
    if circle is None:  # pragma: no cover - membership rows cascade with the circle
        raise NotFoundError("Circle not found")
    return circle


async def add_member(
    *, session: AsyncSession, kv: KeyValue, actor_id: str, circle_id: str, user_id: str, role: str = "member"
) -> CircleMember:
    if role not in ("admin", "member"):
        raise BadUserInputError("Role must be ADMIN or MEMBER", extensions={"argument": "role"})
    check_ref_ids([user_id], argument="userId")
    actor_role = await require_role(session=session, user_id=actor_id, circle_id=circle_id, minimum="admin")
    if role == "admin" and actor_role != "owner":
        raise ForbiddenError("Only the owner can add admins")
    member = CircleMember(circle_id=circle_id, user_id=user_id, role=role)
    try:
        async with session.begin_nested():
            session.add(member)
            await session.flush()
    except IntegrityError as error:
        await session.rollback()
        raise ConflictError("Already a member of this circle") from error
    await session.execute(
        update(Circle).where(Circle.id == circle_id).values(members_count=Circle.members_count + 1)
    )
    await session.commit()
    await feeds.invalidate_home(kv, [user_id])
    return member


async def remove_member(
    *, session: AsyncSession, kv: KeyValue, actor_id: str, circle_id: str, user_id: str
) -> bool:
    """Remove `user_id` (or leave, when it is the actor). The owner cannot leave its circle."""
    actor_role = await require_role(session=session, user_id=actor_id, circle_id=circle_id)
    target = await session.get(CircleMember, (circle_id, user_id))
    if target is None:
        raise NotFoundError("Not a member of this circle")
    if target.role == "owner":
        raise ForbiddenError("The owner cannot leave or be removed; delete the circle instead")
    if actor_id != user_id and _RANK[actor_role] <= _RANK[target.role]:
        raise ForbiddenError("You cannot remove this member")
    result = await session.execute(
        delete(CircleMember).where(CircleMember.circle_id == circle_id, CircleMember.user_id == user_id)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        await session.execute(
            update(Circle).where(Circle.id == circle_id).values(members_count=Circle.members_count - 1)
        )
    await session.commit()
    await feeds.invalidate_home(kv, [user_id])
    return True


async def set_member_role(
    *, session: AsyncSession, actor_id: str, circle_id: str, user_id: str, role: str
) -> CircleMember:
    if role not in ("admin", "member"):
        raise BadUserInputError("Role must be ADMIN or MEMBER", extensions={"argument": "role"})
    await require_role(session=session, user_id=actor_id, circle_id=circle_id, minimum="owner")
    target = await session.get(CircleMember, (circle_id, user_id))
    if target is None:
        raise NotFoundError("Not a member of this circle")
    if target.role == "owner":
        raise ForbiddenError("The owner's role cannot change")
    target.role = role
    await session.commit()
    return target


async def delete_circle(*, session: AsyncSession, kv: KeyValue, actor_id: str, circle_id: str) -> bool:
    from subgraphs.social.models import Post
    from subgraphs.social.services.posts import delete_posts

    await require_role(session=session, user_id=actor_id, circle_id=circle_id, minimum="owner")
    members = list(
        (await session.execute(select(CircleMember.user_id).where(CircleMember.circle_id == circle_id))).scalars()
    )
    post_ids = list((await session.execute(select(Post.id).where(Post.circle_id == circle_id))).scalars())
    await delete_posts(session, post_ids)
    await session.execute(delete(CircleMember).where(CircleMember.circle_id == circle_id))
    await session.execute(delete(Circle).where(Circle.id == circle_id))
    await session.commit()
    await feeds.invalidate_home(kv, members)
    return True


async def list_members(
    *, session: AsyncSession, viewer_id: str, circle_id: str, first: int, after: str | None = None
) -> Page[CircleMember]:
    await require_role(session=session, user_id=viewer_id, circle_id=circle_id)
    query = select(CircleMember).where(CircleMember.circle_id == circle_id)
    if after is not None:
        joined_at, user_id = decode_cursor("circle_members", after, (datetime, str))
        query = query.where(
            keyset_after([CircleMember.joined_at, CircleMember.user_id], [joined_at, user_id], descending=False)
        )
    query = query.order_by(CircleMember.joined_at, CircleMember.user_id).limit(first + 1)
    rows = list((await session.execute(query)).scalars())
    items = rows[:first]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor("circle_members", m.joined_at, m.user_id) for m in items),
        has_next_page=len(rows) > first,
    )


async def list_my_circles(
    *, session: AsyncSession, user_id: str, first: int, after: str | None = None
) -> Page[Circle]:
    query = select(Circle).join(CircleMember, CircleMember.circle_id == Circle.id).where(
        CircleMember.user_id == user_id
    )
    if after is not None:
        created_at, circle_id = decode_cursor("my_circles", after, (datetime, str))
        query = query.where(keyset_after([Circle.created_at, Circle.id], [created_at, circle_id], descending=True))
    query = query.order_by(Circle.created_at.desc(), Circle.id.desc()).limit(first + 1)  # type: ignore[attr-defined]
    rows = list((await session.execute(query)).scalars())
    items = rows[:first]
    return Page(
        items=tuple(items),
        cursors=tuple(encode_cursor("my_circles", c.created_at, c.id) for c in items),
        has_next_page=len(rows) > first,
    )
