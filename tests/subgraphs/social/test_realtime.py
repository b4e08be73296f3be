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
