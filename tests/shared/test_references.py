"""References: ids checked with their owner, existence cached briefly, absence never, fail closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.auth import SigningKeys
from shared.errors import NotFoundError, ServiceUnavailableError
from shared.internal import (
    InternalClient,
    InternalRequest,
    InternalRoute,
    InternalServer,
    internal_app,
)
from shared.references import USER, References
from shared.service_auth import ServiceIdentity, ServiceKeyring, public_key_text

WALLET = ServiceIdentity(name="wallet", keys=SigningKeys.generate())


class _Owner:
    """A real identity-shaped peer on loopback whose set of users the test controls."""

    def __init__(self) -> None:
        self.users = {"alice", "bob"}
        self.calls = 0

    async def lookup(self, request: InternalRequest) -> dict[str, Any]:
        self.calls += 1
        return {"found": [i for i in request.body["ids"] if i in self.users]}


@pytest.fixture
async def owner() -> AsyncIterator[tuple[_Owner, References]]:
    state = _Owner()
    app = internal_app([InternalRoute(path=USER.path, handler=state.lookup,
                                      callers=frozenset({"wallet"}))],
                       keyring=ServiceKeyring(owner="identity",
                                              public_keys={"wallet": public_key_text(WALLET.keys)}))
    server = InternalServer(app=app, host="127.0.0.1", port=0)
    url = await server.start()
    client = InternalClient(WALLET, {"identity": url})
    try:
        yield state, References(client)
    finally:
        await client.close()
        await server.stop()


async def test_existing_ids_pass_and_are_cached(owner: tuple[_Owner, References]) -> None:
    state, references = owner
    await references.require(USER, ["alice", "bob", "alice"], field_name="to")
    await references.require(USER, ["bob"], field_name="to")
    assert state.calls == 1


async def test_missing_ids_are_named_and_never_cached(owner: tuple[_Owner, References]) -> None:
    state, references = owner
    with pytest.raises(NotFoundError, match="'carol'") as caught:
        await references.require(USER, ["alice", "carol"], field_name="memberIds")
    assert caught.value.extensions == {"field": "memberIds", "typename": "User", "ids": ["carol"],
                                       "code": "NOT_FOUND"}
    state.users.add("carol")  # registered a moment later: found at once
    await references.require(USER, ["carol"], field_name="memberIds")


async def test_forgotten_ids_are_asked_again(owner: tuple[_Owner, References]) -> None:
    state, references = owner
    await references.require(USER, ["alice"], field_name="to")
    references.forget(USER, "alice")
    state.users.discard("alice")
    with pytest.raises(NotFoundError):
        await references.require(USER, ["alice"], field_name="to")


async def test_an_owner_that_cannot_answer_fails_the_write_closed() -> None:
    client = InternalClient(WALLET, {"identity": "http://127.0.0.1:9"}, timeout=2)
    try:
        with pytest.raises(ServiceUnavailableError):
            await References(client).require(USER, ["alice"], field_name="to")
    finally:
        await client.close()
