"""GraphQL fields for a subgraph's dead letters: an admin lists and replays them.

`dead_letter_fields("wallet")` gives Query and Mutation bases with `walletDeadLetters`,
`replayWalletDeadLetter(id:)` and `replayWalletDeadLetters(topic:)`, and the type
`WalletDeadLetter`; each subgraph's names are its own, so the supergraph has no clashes.
"""

# No `from __future__ import annotations`: the types are built inside a function, and
# strawberry must see the annotations as objects, not as names it cannot look up later.

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from shared.dead_letters import list_dead_letters, replay_dead_letter, replay_topic
from shared.errors import NotFoundError

__all__ = ["ADMIN_ROLE", "dead_letter_fields"]

ADMIN_ROLE = "ADMIN"


def _require_admin(info: Info[Any, Any]) -> None:
    caller = info.context.caller
    caller.require_user()  # UNAUTHENTICATED first, then FORBIDDEN
    caller.require_role(ADMIN_ROLE)


def dead_letter_fields(service: str) -> tuple[type, type]:
    """(Query base, Mutation base) for `service`'s dead letters; subclass them in the roots."""
    title = service[:1].upper() + service[1:]

    @strawberry.type(name=f"{title}DeadLetter",
                     description=f"An event of {service} that found no consumer in time.")
    class DeadLetter:
        id: strawberry.ID
        topic: str
        key: str | None
        payload: JSON
        created_at: datetime
        dead_at: datetime
        attempts: int
        last_error: str | None

    def to_type(row: Any) -> DeadLetter:
        return DeadLetter(id=strawberry.ID(row.id), topic=row.topic, key=row.key,
                          payload=row.payload, created_at=row.created_at, dead_at=row.dead_at,
                          attempts=row.attempts, last_error=row.last_error)

    async def letters(info: Info[Any, Any], topic: str | None = None,
                      first: int = 50) -> list[DeadLetter]:
        _require_admin(info)
        async with info.context.database.session() as session:
            rows = await list_dead_letters(session=session, topic=topic, first=first)
        return [to_type(row) for row in rows]

    async def replay_one(info: Info[Any, Any], id: strawberry.ID) -> bool:
        _require_admin(info)
        async with info.context.database.session() as session:
            if not await replay_dead_letter(session=session, event_id=str(id)):
                raise NotFoundError(f"No dead letter {id}", extensions={"argument": "id"})
        return True

    async def replay_all(info: Info[Any, Any], topic: str) -> int:
        _require_admin(info)
        async with info.context.database.session() as session:
            return await replay_topic(session=session, topic=topic)

    query = strawberry.type(type(f"{title}DeadLetterQuery", (), {
        f"{service}_dead_letters": strawberry.field(
            resolver=letters, description="Dead letters, newest first (role ADMIN)."),
    }))
    mutation = strawberry.type(type(f"{title}DeadLetterMutation", (), {
        f"replay_{service}_dead_letter": strawberry.mutation(
            resolver=replay_one, description="Put one dead letter back into the outbox "
            "(role ADMIN); it is delivered once its topic has a consumer."),
        f"replay_{service}_dead_letters": strawberry.mutation(
            resolver=replay_all, description="Put every dead letter of a topic back into the "
            "outbox (role ADMIN); returns how many."),
    }))
    return query, mutation
