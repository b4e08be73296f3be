"""Processing progress: the last state of each media in the KV, and a channel per media that
`mediaProcessed` subscribers listen on (Redis pub/sub across replicas and workers)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from shared.redis import KeyValue

__all__ = ["ProgressEvent", "Reporter", "channel", "last_progress", "publish"]

_TTL = 24 * 3600.0


def channel(media_id: str) -> str:
    return f"media:processed:{media_id}"


def _key(media_id: str) -> str:
    return f"media:progress:{media_id}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ProgressEvent:
    media_id: str
    status: str
    progress: int  # percent
    failure_reason: str | None = None

    def to_json(self) -> bytes:
        return orjson.dumps({"mediaId": self.media_id, "status": self.status,
                             "progress": self.progress, "failureReason": self.failure_reason})

    @classmethod
    def from_json(cls, raw: bytes | str) -> ProgressEvent:
        data = orjson.loads(raw)
        return cls(media_id=data["mediaId"], status=data["status"], progress=data["progress"],
                   failure_reason=data.get("failureReason"))


async def publish(kv: KeyValue, event: ProgressEvent) -> None:
    await kv.set(_key(event.media_id), str(event.progress), ttl=_TTL)
    await kv.publish(channel(event.media_id), event.to_json())


async def last_progress(kv: KeyValue, media_id: str) -> int | None:
    raw = await kv.get(_key(media_id))
    return int(raw) if raw is not None and raw.isdigit() else None


@dataclass
class Reporter:
    """Publishes a running job's percent, at most once per `step` points."""

    kv: KeyValue
    media_id: str
    step: int = 5
    _sent: int = -1

    async def __call__(self, fraction: float) -> None:
        percent = max(0, min(99, int(fraction * 100)))  # 100 is READY's alone
        if self._sent < 0 or percent >= self._sent + self.step:
            self._sent = percent
            await publish(self.kv, ProgressEvent(media_id=self.media_id, status="PROCESSING",
                                                 progress=percent))
