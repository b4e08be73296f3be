"""Channels, typing indicators and presence over the KV (Redis in production, in-memory embedded)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from shared.redis import KeyValue

__all__ = [
    "PRESENCE_STATUSES",
    "Presence",
    "conversation_channel",
    "get_presence",
    "listen",
    "notification_channel",
    "presence_channel",
    "publish",
    "set_presence",
    "set_typing",
    "typing_channel",
    "typing_user_ids",
]

PRESENCE_STATUSES = ("online", "away", "offline")


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}:messages"


def typing_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}:typing"


def notification_channel(user_id: str) -> str:
    return f"user:{user_id}:notifications"


def presence_channel(user_id: str) -> str:
    return f"user:{user_id}:presence"


def _typing_key(conversation_id: str, user_id: str) -> str:
    return f"typing:{conversation_id}:{user_id}"


def _presence_key(user_id: str) -> str:
    return f"presence:{user_id}"


async def publish(kv: KeyValue, channel: str, payload: dict[str, Any]) -> None:
    await kv.publish(channel, orjson.dumps(payload))


async def listen(kv: KeyValue, *channels: str) -> AsyncIterator[dict[str, Any]]:
    """Yield every JSON payload published on `channels` until the consumer stops iterating."""
    async with kv.subscribe(*channels) as messages:
        async for _channel, raw in messages:
            yield orjson.loads(raw)


async def set_typing(
    kv: KeyValue, *, conversation_id: str, user_id: str, is_typing: bool, ttl: int
) -> dict[str, Any]:
    """Record (or clear) a typing indicator that expires by itself after `ttl` seconds."""
    key = _typing_key(conversation_id, user_id)
    if is_typing:
        await kv.set(key, "1", ttl=ttl)
    else:
        await kv.delete(key)
    event = {
        "conversationId": conversation_id,
        "userId": user_id,
        "isTyping": is_typing,
        "expiresIn": ttl if is_typing else 0,
    }
    await publish(kv, typing_channel(conversation_id), event)
    return event


async def typing_user_ids(kv: KeyValue, *, conversation_id: str, member_ids: Iterable[str]) -> list[str]:
    typing = []
    for user_id in member_ids:
        if await kv.get(_typing_key(conversation_id, user_id)) is not None:
            typing.append(user_id)
    return typing


@dataclass(frozen=True, kw_only=True, slots=True)
class Presence:
    user_id: str
    status: str  # online | away | offline
    expires_at: float | None  # unix time the status lapses to offline; None when offline


async def set_presence(kv: KeyValue, *, user_id: str, status: str, ttl: int) -> Presence:
    """Heartbeat: online/away last `ttl` seconds unless renewed; offline clears at once."""
    assert status in PRESENCE_STATUSES, status
    key = _presence_key(user_id)
    previous = await kv.get(key)
    if status == "offline":
        await kv.delete(key)
        presence = Presence(user_id=user_id, status="offline", expires_at=None)
    else:
        expires_at = time.time() + ttl
        await kv.set(key, orjson.dumps({"status": status, "expiresAt": expires_at}), ttl=ttl)
        presence = Presence(user_id=user_id, status=status, expires_at=expires_at)
    previous_status = orjson.loads(previous)["status"] if previous is not None else "offline"
    # Subscribers track expiry themselves, so a renewal is published too (it moves the deadline).
    await publish(kv, presence_channel(user_id), _presence_payload(presence, previous_status))
    return presence


def _presence_payload(presence: Presence, previous_status: str) -> dict[str, Any]:
    return {
        "userId": presence.user_id,
        "status": presence.status,
        "expiresAt": presence.expires_at,
        "previous": previous_status,
    }


async def get_presence(kv: KeyValue, *, user_ids: Iterable[str]) -> list[Presence]:
    result = []
    for user_id in user_ids:
        raw = await kv.get(_presence_key(user_id))
        if raw is None:
            result.append(Presence(user_id=user_id, status="offline", expires_at=None))
        else:
            data = orjson.loads(raw)
            result.append(Presence(user_id=user_id, status=data["status"], expires_at=data["expiresAt"]))
    return result
