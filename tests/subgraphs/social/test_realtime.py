"""Typing indicators and presence over the KV, on the in-memory KV and the real Redis."""

from __future__ import annotations

import uuid

import orjson
import pytest

from shared.redis import MemoryStore, create_kv
from shared.testing import redis_url
from subgraphs.social.services import realtime


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def any_kv(request):
    prefix = f"test:social:{uuid.uuid4().hex}:"
    kv = create_kv(redis_url() if request.param == "redis" else None, prefix=prefix, store=MemoryStore())
    yield kv
    await kv.close()


async def test_typing_sets_expiring_key_and_publishes(any_kv):
    async with any_kv.subscribe(realtime.typing_channel("c1")) as stream:
        await realtime.set_typing(any_kv, conversation_id="c1", user_id="u1", is_typing=True, ttl=5)
        event = orjson.loads((await anext(stream))[1])
        assert event == {"conversationId": "c1", "userId": "u1", "isTyping": True, "expiresIn": 5}
        assert await realtime.typing_user_ids(any_kv, conversation_id="c1", member_ids=["u1", "u2"]) == ["u1"]
        assert 0 < (await any_kv.ttl("typing:c1:u1")) <= 5
        await realtime.set_typing(any_kv, conversation_id="c1", user_id="u1", is_typing=False, ttl=5)
        assert orjson.loads((await anext(stream))[1])["isTyping"] is False
    assert await realtime.typing_user_ids(any_kv, conversation_id="c1", member_ids=["u1"]) == []


async def test_presence_online_away_offline(any_kv):
    assert [p.status for p in await realtime.get_presence(any_kv, user_ids=["u1"])] == ["offline"]
    async with any_kv.subscribe(realtime.presence_channel("u1")) as stream:
        online = await realtime.set_presence(any_kv, user_id="u1", status="online", ttl=30)
        assert online.expires_at is not None
        event = orjson.loads((await anext(stream))[1])
        assert (event["status"], event["previous"]) == ("online", "offline")
        await realtime.set_presence(any_kv, user_id="u1", status="away", ttl=30)
        assert orjson.loads((await anext(stream))[1])["status"] == "away"
        assert [p.status for p in await realtime.get_presence(any_kv, user_ids=["u1", "u2"])] == ["away", "offline"]
        assert 0 < (await any_kv.ttl("presence:u1")) <= 30
        await realtime.set_presence(any_kv, user_id="u1", status="offline", ttl=30)
        assert orjson.loads((await anext(stream))[1])["status"] == "offline"
    assert [p.status for p in await realtime.get_presence(any_kv, user_ids=["u1"])] == ["offline"]


async def test_fanout_shares_one_kv_subscription_per_channel(any_kv):
    from subgraphs.social.services.fanout import Fanout

    from ._client import subscriber_count

    fanout = Fanout(any_kv)
    first = await fanout.open("room")
    second = await fanout.open("room", "other")
    assert await subscriber_count(any_kv, "room") == 1 and fanout.channel_count == 2
    await realtime.publish(any_kv, "room", {"n": 1})
    await realtime.publish(any_kv, "other", {"n": 2})
    assert await anext(aiter(first)) == {"n": 1}
    second_items = aiter(second)
    assert [await anext(second_items), await anext(second_items)] == [{"n": 1}, {"n": 2}]
    first.close()
    assert await subscriber_count(any_kv, "room") == 1  # the second stream still listens
    second.close()
    assert fanout.channel_count == 0


async def test_fanout_ends_a_stream_that_falls_behind(any_kv):
    from shared.errors import InternalError
    from subgraphs.social.services.fanout import Fanout

    fanout = Fanout(any_kv, queue_size=3)
    slow = await fanout.open("busy")
    fast = await fanout.open("busy")
    fast_items = aiter(fast)
    for n in range(5):
        await realtime.publish(any_kv, "busy", {"n": n})
        assert await anext(fast_items) == {"n": n}
    slow_items = aiter(slow)
    assert [await anext(slow_items) for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]
    with pytest.raises(InternalError):
        await anext(slow_items)
    slow.close()
    fast.close()
