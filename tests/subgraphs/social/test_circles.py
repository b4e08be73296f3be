"""Circles: roles decide who may add, remove and promote members."""

from __future__ import annotations

import pytest

from shared.errors import ConflictError, ForbiddenError, NotFoundError
from subgraphs.social.services import circles


async def _call(database, fn, **kwargs):
    async with database.session() as session:
        return await fn(session=session, **kwargs)


async def test_roles_and_membership(database, kv):
    circle = await _call(database, circles.create_circle, owner_id="owner", name="  club  ")
    assert circle.name == "club" and circle.members_count == 1
    cid = circle.id
    await _call(database, circles.add_member, kv=kv, actor_id="owner", circle_id=cid, user_id="admin", role="admin")
    await _call(database, circles.add_member, kv=kv, actor_id="admin", circle_id=cid, user_id="m1")
    with pytest.raises(ForbiddenError):  # only the owner adds admins
        await _call(database, circles.add_member, kv=kv, actor_id="admin", circle_id=cid, user_id="m2", role="admin")
    with pytest.raises(ForbiddenError):  # members cannot add
        await _call(database, circles.add_member, kv=kv, actor_id="m1", circle_id=cid, user_id="m2")
    with pytest.raises(NotFoundError):  # outsiders learn nothing
        await _call(database, circles.add_member, kv=kv, actor_id="x", circle_id=cid, user_id="m2")
    with pytest.raises(ConflictError):
        await _call(database, circles.add_member, kv=kv, actor_id="owner", circle_id=cid, user_id="m1")
    await _call(database, circles.add_member, kv=kv, actor_id="owner", circle_id=cid, user_id="admin2", role="admin")
    with pytest.raises(ForbiddenError):  # admins cannot remove admins
        await _call(database, circles.remove_member, kv=kv, actor_id="admin", circle_id=cid, user_id="admin2")
    with pytest.raises(ForbiddenError):
        await _call(database, circles.remove_member, kv=kv, actor_id="admin", circle_id=cid, user_id="owner")
    with pytest.raises(ForbiddenError):
        await _call(database, circles.set_member_role, actor_id="admin", circle_id=cid, user_id="m1", role="admin")
    promoted = await _call(database, circles.set_member_role, actor_id="owner", circle_id=cid, user_id="m1", role="admin")
    assert promoted.role == "admin"
    assert await _call(database, circles.remove_member, kv=kv, actor_id="owner", circle_id=cid, user_id="m1")
    assert await _call(database, circles.remove_member, kv=kv, actor_id="admin", circle_id=cid, user_id="admin")  # leave
    assert await _call(database, circles.remove_member, kv=kv, actor_id="owner", circle_id=cid, user_id="admin2")
    fetched = await _call(database, circles.get_circle, viewer_id="owner", circle_id=cid)
    assert fetched.members_count == 1
    page = await _call(database, circles.list_members, viewer_id="owner", circle_id=cid, first=10)
    assert [(m.user_id, m.role) for m in page.items] == [("owner", "owner")]
    with pytest.raises(NotFoundError):
        await _call(database, circles.list_members, viewer_id="admin", circle_id=cid, first=10)
    mine = await _call(database, circles.list_my_circles, user_id="owner", first=10)
    assert [c.id for c in mine.items] == [cid]
    await _call(database, circles.add_member, kv=kv, actor_id="owner", circle_id=cid, user_id="m3")
    with pytest.raises(ForbiddenError):
        await _call(database, circles.delete_circle, kv=kv, actor_id="m3", circle_id=cid)
    assert await _call(database, circles.delete_circle, kv=kv, actor_id="owner", circle_id=cid)
    with pytest.raises(NotFoundError):
        await _call(database, circles.get_circle, viewer_id="owner", circle_id=cid)
