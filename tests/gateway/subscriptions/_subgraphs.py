"""Two small Strawberry federation subgraphs for the subscription tests.

`chat` owns `Message` and the subscription root fields; `users` owns `User`'s profile fields, so a
`messageAdded { author { name } }` event needs an entity fetch on `users` for every event. Both record
what they saw (connection_init payloads, headers on entity fetches, open/closed subscriptions) on a
`Recorder` the tests read directly: the servers run in the test's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import Info


@dataclass
class Recorder:
    """What the fixture subgraphs observed, plus the in-process pub/sub behind `messageAdded`."""

    init_payloads: list[dict[str, Any]] = field(default_factory=list)
    entity_headers: list[str | None] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    rooms: dict[str, list[asyncio.Queue[Message]]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def active(self) -> int:
        return len(self.opened) - len(self.closed)

    def touch(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        async def loop() -> None:
            while not predicate():
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)

    def publish(self, room: str, message: Message) -> int:
        queues = self.rooms.get(room, [])
        for queue in queues:
            queue.put_nowait(message)
        return len(queues)


# -- chat ------------------------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"])
class Message:
    id: strawberry.ID
    room: str
    text: str
    author: User


def _recorder(info: Info) -> Recorder:
    return info.context["recorder"]  # type: ignore[no-any-return]


@strawberry.type
class ChatQuery:
    @strawberry.field
    def rooms(self) -> list[str]:
        return ["lobby"]


@strawberry.type
class ChatMutation:
    @strawberry.mutation
    def post_message(self, info: Info, room: str, text: str, author_id: strawberry.ID) -> Message:
        message = Message(id=strawberry.ID(f"m-{text}"), room=room, text=text, author=User(id=author_id))
        _recorder(info).publish(room, message)
        return message


@strawberry.type
class ChatSubscription:
    @strawberry.subscription
    async def message_added(self, info: Info, room: str) -> AsyncGenerator[Message, None]:
        recorder = _recorder(info)
        queue: asyncio.Queue[Message] = asyncio.Queue()
        recorder.rooms.setdefault(room, []).append(queue)
        recorder.opened.append(room)
        recorder.touch()
        try:
            while True:
                yield await queue.get()
        finally:
            # runs when the gateway sends `complete` or drops the connection
            recorder.rooms[room].remove(queue)
            recorder.closed.append(room)
            recorder.touch()

    @strawberry.subscription
    async def countdown(self, info: Info, start: int) -> AsyncGenerator[int, None]:
        for value in range(start, -1, -1):
            yield value

    @strawberry.subscription
    async def whoami(self, info: Info) -> AsyncGenerator[str, None]:
        params = info.context.get("connection_params") or {}
        yield str(params.get("authorization"))


class _ChatApp(GraphQL):  # type: ignore[type-arg]
    def __init__(self, recorder: Recorder) -> None:
        super().__init__(chat_schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        self.recorder = recorder

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"request": request, "response": response, "recorder": self.recorder}

    async def on_ws_connect(self, context: dict[str, Any]) -> None:
        params = dict(context.get("connection_params") or {})
        self.recorder.init_payloads.append(params)
        self.recorder.touch()
        if params.get("authorization") == "Bearer refused":  # how a subgraph turns a caller away
            raise ConnectionRejectionError()


chat_schema = strawberry.federation.Schema(
    query=ChatQuery,
    mutation=ChatMutation,
    subscription=ChatSubscription,
    types=[Message, User],
)


def chat_app(recorder: Recorder) -> GraphQL:  # type: ignore[type-arg]
    return _ChatApp(recorder)


# -- users -----------------------------------------------------------------------------------------

_PROFILES = {"u1": ("Ada", "ada"), "u2": ("Brook", "brook")}


@strawberry.federation.type(keys=["id"], name="User")
class Profile:
    id: strawberry.ID
    name: str
    handle: str

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Profile:
        _recorder(info).entity_headers.append(info.context["request"].headers.get("authorization"))
        name, handle = _PROFILES.get(str(id), ("Unknown", "unknown"))
        return cls(id=id, name=name, handle=handle)


@strawberry.type
class UsersQuery:
    @strawberry.field
    def user(self, id: strawberry.ID) -> Profile | None:
        if str(id) not in _PROFILES:
            return None
        name, handle = _PROFILES[str(id)]
        return Profile(id=id, name=name, handle=handle)


users_schema = strawberry.federation.Schema(query=UsersQuery, types=[Profile])


class _UsersApp(GraphQL):  # type: ignore[type-arg]
    def __init__(self, recorder: Recorder) -> None:
        super().__init__(users_schema)
        self.recorder = recorder

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"request": request, "response": response, "recorder": self.recorder}


def users_app(recorder: Recorder) -> GraphQL:  # type: ignore[type-arg]
    return _UsersApp(recorder)
