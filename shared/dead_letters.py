"""Dead letters: outbox events that found no consumer in time, listed and replayed by admins."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.events import DeadLetterEvent, OutboxEvent

__all__ = ["MAX_PAGE", "list_dead_letters", "replay_dead_letter", "replay_topic"]

MAX_PAGE = 200


async def list_dead_letters(*, session: AsyncSession, topic: str | None = None,
                            first: int = 50) -> list[DeadLetterEvent]:
    """Newest first."""
    query = select(DeadLetterEvent).order_by(col(DeadLetterEvent.dead_at).desc(),
                                             col(DeadLetterEvent.id))
    if topic is not None:
        query = query.where(DeadLetterEvent.topic == topic)
    result = await session.execute(query.limit(max(1, min(first, MAX_PAGE))))
    return list(result.scalars())


def _requeue(session: AsyncSession, letter: DeadLetterEvent) -> None:
    # Same id: a consumer that did see it before deduplicates it (`mark_processed`).
    session.add(OutboxEvent(id=letter.id, topic=letter.topic, key=letter.key,
                            payload=letter.payload, created_at=letter.created_at))


async def replay_dead_letter(*, session: AsyncSession, event_id: str) -> bool:
    """Move one dead letter back into the outbox (commits); False if there is none."""
    query = select(DeadLetterEvent).where(DeadLetterEvent.id == event_id).with_for_update()
    letter = (await session.execute(query)).scalar_one_or_none()
    if letter is None:
        return False
    _requeue(session, letter)
    await session.delete(letter)
    await session.commit()
    return True


async def replay_topic(*, session: AsyncSession, topic: str) -> int:
    """Move every dead letter of `topic` back into the outbox (commits); returns how many."""
    query = select(DeadLetterEvent).where(DeadLetterEvent.topic == topic).with_for_update()
    letters = list((await session.execute(query)).scalars())
    for letter in letters:
        _requeue(session, letter)
        await session.delete(letter)
    await session.commit()
    return len(letters)
