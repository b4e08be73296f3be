"""A small composed supergraph for the front-door tests: `accounts` and `private` Strawberry
subgraphs served over real HTTP on loopback, each counting the operations it receives."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import strawberry
from strawberry.asgi import GraphQL
from strawberry.federation.schema_directives import Cost, ListSize

from gateway.compose import SubgraphSource, compose
from gateway.config import GatewaySettings
from gateway.server import create_app
from shared.testing import Served, start_server

SECRET = "front-door-test-secret-0123456789abcdef"


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    name: str

    @strawberry.federation.field(directives=[ListSize(slicing_arguments=["first"])])
    def friends(self, first: int = 10) -> list[User]:
        return [User(id=strawberry.ID(f"{self.id}-{i}"), name=f"friend {i}") for i in range(min(first, 3))]

    @strawberry.federation.field(directives=[Cost(weight=5)])
    def score(self) -> int:
        return 7

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return User(id=id, name=f"user {id}")


@strawberry.type
class UserConnection:
    nodes: list[User]
    total: int


@strawberry.type
class AccountsQuery:
    @strawberry.field
    def me(self) -> User | None:
        return User(id=strawberry.ID("1"), name="Ada")

    @strawberry.federation.field(directives=[ListSize(assumed_size=50)])
    def users(self) -> list[User]:
        return [User(id=strawberry.ID("1"), name="Ada"), User(id=strawberry.ID("2"), name="Bob")]

    @strawberry.federation.field(directives=[ListSize(slicing_arguments=["first"], sized_fields=["nodes"])])
    def people(self, first: int) -> UserConnection:
        return UserConnection(nodes=[User(id=strawberry.ID("1"), name="Ada")][:first], total=1)


@strawberry.type
class AccountsSubscription:
    @strawberry.subscription
    async def user_joined(self, count: int = 2) -> AsyncGenerator[User, None]:
        for i in range(count):
            yield User(id=strawberry.ID(str(i + 1)), name=f"joiner {i + 1}")


@strawberry.federation.type(keys=["id"], name="User")
class PrivateUser:
    id: strawberry.ID
    email: str | None = strawberry.federation.field(authenticated=True)
    secret: str | None = strawberry.federation.field(requires_scopes=[["read:secret"], ["admin"]])
    vip_note: str | None = strawberry.federation.field(policy=[["vip"]])

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> PrivateUser:
        return PrivateUser(id=id, email=f"{id}@example.test", secret=f"s{id}", vip_note=f"v{id}")


@strawberry.type
class PrivateQuery:
    @strawberry.federation.field(authenticated=True)
    def private_ping(self) -> str:
        return "pong"


SCHEMAS = {
    "accounts": strawberry.federation.Schema(query=AccountsQuery, subscription=AccountsSubscription,
                                             types=[User], federation_version="2.9"),
    "private": strawberry.federation.Schema(query=PrivateQuery, types=[PrivateUser], federation_version="2.9"),
}


@dataclass
class Counting:
    """An ASGI wrapper recording the GraphQL operations a subgraph receives."""

    app: Any
    queries: list[str] = field(default_factory=list)

    @property
    def state(self) -> Any:  # the wrapped app's state (e.g. identity's internal_url)
        return self.app.state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        with contextlib.suppress(ValueError):
            self.queries.append(json.loads(body).get("query", ""))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def token(*, sub: str = "u1", roles: list[str] | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": "tributary-identity", "aud": "tributary", "sub": sub, "iat": now, "exp": now + 600,
               "roles": roles or [], **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


@dataclass
class Stack:
    http: httpx.AsyncClient
    subgraphs: dict[str, Counting]
    ws_url: str

    async def post(self, query: str, *, bearer: str | None = None, **extra: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
        return await self.http.post("/graphql", json={"query": query, **extra}, headers=headers)

    def calls(self, name: str) -> list[str]:
        return self.subgraphs[name].queries


def composed_supergraph(urls: dict[str, str] | None = None) -> str:
    sources = [SubgraphSource(name, (urls or {}).get(name, f"http://{name}.invalid/graphql"), _sdl(schema))
               for name, schema in SCHEMAS.items()]
    result = compose(sources)
    assert result.ok and result.supergraph_sdl, [str(e) for e in result.errors]
    return result.supergraph_sdl


@contextlib.asynccontextmanager
async def guarded_stack(**settings: Any) -> AsyncIterator[Stack]:
    served: list[Served] = []
    counting = {name: Counting(GraphQL(schema)) for name, schema in SCHEMAS.items()}
    try:
        for app in counting.values():
            served.append(await start_server(app, lifespan="off"))
        urls = {name: f"{s.base}/graphql" for name, s in zip(counting, served, strict=True)}
        gateway = create_app(GatewaySettings(jwt_dev_hs256_secret=SECRET, subgraph_urls=urls,
                                             policy_modules=["tests.gateway.frontdoor._policies"],
                                             **settings),
                             supergraph_sdl=composed_supergraph(urls))
        served.append(front := await start_server(gateway, lifespan="on"))
        async with httpx.AsyncClient(base_url=front.base) as http:
            yield Stack(http=http, subgraphs=counting,
                        ws_url=front.base.replace("http", "ws", 1) + "/graphql")
    finally:
        for s in reversed(served):
            await s.stop()


def _sdl(schema: strawberry.federation.Schema) -> str:
    result = schema.execute_sync("{ _service { sdl } }")
    assert not result.errors and result.data
    return str(result.data["_service"]["sdl"])
