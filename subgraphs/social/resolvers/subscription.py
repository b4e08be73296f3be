"""Subscription root fields. Authorization happens before the stream starts, so a refused
subscriber gets a GraphQL `error` message (FORBIDDEN/UNAUTHENTICATED) and no events."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import BadUserInputError
from shared.redis import KeyValue
from subgraphs.social import _context as ctx
from subgraphs.social.services import conversations, realtime
from subgraphs.social.services.fanout import Stream, fanout_for
from subgraphs.social.types.conversation import Message, TypingEvent
from subgraphs.social.types.notification import Notification
from subgraphs.social.types.presence import Presence

__all__ = ["Subscription"]

MAX_PRESENCE_USERS = 200
_RECHECK_SECONDS = 0.05


async def _open(kv: KeyValue, *channels: str) -> AsyncGenerator[dict[str, Any], None]:
    # Subscribed before the resolver returns: once the operation runs, no event can slip by.
    stream = await fanout_for(kv).open(*channels)
    return _payloads(stream)


async def _payloads(stream: Stream) -> AsyncGenerator[dict[str, Any], None]:
    try:
        async for payload in stream:
            yield payload
    finally:
        stream.close()


async def _messages(source: AsyncGenerator[dict[str, Any], None], user_id: str) -> AsyncGenerator[Message, None]:
    async with contextlib.aclosing(source):
        async for payload in source:
            kind = payload.get("type", "message")
            if kind == "member_left" and payload.get("userId") == user_id:
                return  # the subscriber left the conversation: its stream ends
            if kind == "message":
                yield Message.from_payload(payload)


async def _typing(source: AsyncGenerator[dict[str, Any], None], user_id: str) -> AsyncGenerator[TypingEvent, None]:
    async with contextlib.aclosing(source):
        async for event in source:
            if event["userId"] == user_id:
                continue  # one's own indicator is not news to oneself
            yield TypingEvent(
                conversation_id=strawberry.ID(event["conversationId"]), is_typing=event["isTyping"],
                expires_in=event["expiresIn"], user_id=event["userId"],
            )


async def _notifications(source: AsyncGenerator[dict[str, Any], None]) -> AsyncGenerator[Notification, None]:
    async with contextlib.aclosing(source):
        async for payload in source:
            yield Notification.from_payload(payload)


async def _presence(
    kv: KeyValue, source: AsyncGenerator[dict[str, Any], None], user_ids: list[str]
) -> AsyncGenerator[Presence, None]:
    """Status changes of `user_ids`, including lapses to offline when a heartbeat expires
    (no event marks an expiry, so each stream keeps the deadlines it has seen)."""
    states = {s.user_id: s for s in await realtime.get_presence(kv, user_ids=user_ids)}
    async with contextlib.aclosing(source):
        while True:
            deadlines = [s.expires_at for s in states.values() if s.expires_at is not None]
            timeout = max(0.0, min(deadlines) - time.time()) if deadlines else None
            try:
                event = await asyncio.wait_for(anext(source), timeout=timeout)
            except TimeoutError:
                for user_id, state in list(states.items()):
                    if state.expires_at is not None and state.expires_at <= time.time():
                        [fresh] = await realtime.get_presence(kv, user_ids=[user_id])
                        if fresh.expires_at is not None and fresh.expires_at <= time.time():
                            # The key outlives the announced deadline by the publisher's own
                            # latency; look again shortly instead of spinning.
                            fresh = replace(fresh, expires_at=time.time() + _RECHECK_SECONDS)
                        states[user_id] = fresh
                        if fresh.status != state.status:
                            yield Presence.from_state(fresh)
                continue
            except StopAsyncIteration:
                return
            new = realtime.Presence(user_id=event["userId"], status=event["status"], expires_at=event["expiresAt"])
            old = states.get(new.user_id)
            states[new.user_id] = new
            if old is None or old.status != new.status:
                yield Presence.from_state(new)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="New messages of a conversation (members only).")
    async def message_added(self, info: Info[Any, Any], conversation_id: strawberry.ID) -> AsyncGenerator[Message, None]:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            await conversations.require_member(session=session, conversation_id=str(conversation_id), user_id=user_id)
        opened = await _open(ctx.kv(info), realtime.conversation_channel(str(conversation_id)))
        return _messages(opened, user_id)

    @strawberry.subscription(description="Typing indicators of the other members (members only).")
    async def typing(self, info: Info[Any, Any], conversation_id: strawberry.ID) -> AsyncGenerator[TypingEvent, None]:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            await conversations.require_member(session=session, conversation_id=str(conversation_id), user_id=user_id)
        opened = await _open(ctx.kv(info), realtime.typing_channel(str(conversation_id)))
        return _typing(opened, user_id)

    @strawberry.subscription(description="The caller's new notifications.")
    async def notification_added(self, info: Info[Any, Any]) -> AsyncGenerator[Notification, None]:
        user_id = ctx.require_user(info)
        opened = await _open(ctx.kv(info), realtime.notification_channel(user_id))
        return _notifications(opened)

    @strawberry.subscription(description="Presence changes (online/away/offline) of the given users.")
    async def presence_changed(
        self, info: Info[Any, Any], user_ids: list[strawberry.ID]
    ) -> AsyncGenerator[Presence, None]:
        ids = list(dict.fromkeys(str(u) for u in user_ids))
        ctx.require_user(info)
        if not 1 <= len(ids) <= MAX_PRESENCE_USERS:
            raise BadUserInputError(f"Give 1 to {MAX_PRESENCE_USERS} users", extensions={"argument": "userIds"})
        kv = ctx.kv(info)
        opened = await _open(kv, *(realtime.presence_channel(u) for u in ids))
        return _presence(kv, opened, ids)
