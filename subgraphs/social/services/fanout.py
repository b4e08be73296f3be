"""Process-wide fan-out of KV pub/sub channels to local subscription streams.

Each channel is subscribed on the KV once per process, however many GraphQL subscriptions of this
replica listen to it; messages are copied into each stream's bounded queue. A stream that falls
`queue_size` messages behind is ended with an error instead of growing without bound, and a KV
failure ends every stream with an error rather than leaving it silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.errors import InternalError
from shared.redis import KeyValue

__all__ = ["Fanout", "Stream", "fanout_for"]

_END = object()
_fanouts: weakref.WeakKeyDictionary[Any, Fanout] = weakref.WeakKeyDictionary()


def fanout_for(kv: KeyValue) -> Fanout:
    """The fan-out of `kv` (one per KV client, created on first use)."""
    found = _fanouts.get(kv)
    if found is None:
        found = _fanouts[kv] = Fanout(kv)
    return found


@dataclass(eq=False)
class _Channel:
    streams: set[Stream] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    error: BaseException | None = None


class Stream:
    """One subscriber's view of one or more channels: an async iterator of decoded JSON payloads
    (shared between the streams of a channel, so never mutated)."""

    def __init__(self, fanout: Fanout, channels: tuple[str, ...], queue_size: int) -> None:
        self._fanout = fanout
        self.channels = channels
        self.queue: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self.failure: str | None = None

    def deliver(self, payload: dict[str, Any]) -> None:
        if self.failure is not None:
            return
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.fail("Subscriber fell too far behind; resubscribe")

    def fail(self, reason: str) -> None:
        self.failure = reason
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(_END)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            if self.failure is not None and self.queue.empty():
                raise InternalError(self.failure)
            item = await self.queue.get()
            if item is _END:
                continue  # loop back to raise the failure once the queue is drained
            yield item

    def close(self) -> None:
        self._fanout._leave(self)


class Fanout:
    def __init__(self, kv: KeyValue, *, queue_size: int = 1000) -> None:
        self.kv = kv
        self.queue_size = queue_size
        self._channels: dict[str, _Channel] = {}

    @property
    def channel_count(self) -> int:
        return len(self._channels)

    async def open(self, *channels: str) -> Stream:
        """A stream of `channels`, subscribed on the KV before this returns."""
        stream = Stream(self, tuple(dict.fromkeys(channels)), self.queue_size)
        joined: list[_Channel] = []
        try:
            for name in stream.channels:
                channel = self._channels.get(name)
                if channel is None:
                    channel = self._channels[name] = _Channel()
                    channel.task = asyncio.create_task(self._pump(name, channel))
                channel.streams.add(stream)
                joined.append(channel)
            for channel in joined:
                await channel.ready.wait()
                if channel.error is not None:
                    raise InternalError("Realtime channel unavailable") from channel.error
        except BaseException:
            self._leave(stream)
            raise
        return stream

    def _leave(self, stream: Stream) -> None:
        for name in stream.channels:
            channel = self._channels.get(name)
            if channel is None:
                continue
            channel.streams.discard(stream)
            if not channel.streams:
                del self._channels[name]
                if channel.task is not None:
                    channel.task.cancel()

    async def _pump(self, name: str, channel: _Channel) -> None:
        try:
            async with self.kv.subscribe(name) as messages:
                channel.ready.set()
                async for _name, raw in messages:
                    # Decoded once for every local stream; streams treat payloads as read-only.
                    payload = orjson.loads(raw)
                    for stream in list(channel.streams):
                        stream.deliver(payload)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - every listener learns of it below
            channel.error = error
        finally:
            channel.ready.set()
            if self._channels.get(name) is channel:
                del self._channels[name]
            for stream in list(channel.streams):
                stream.fail("Realtime channel closed")
