"""References: ids checked with their owner, existence cached briefly, absence never, fail closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.auth import SigningKeys
from shared.errors import BadUserInputError, NotFoundError, ServiceUnavailableError
from shared.internal import (
    InternalClient,
    InternalRequest,
    InternalRoute,
    InternalServer,
    internal_app,
)
from shared.references import MEDIA, USER, References
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


class _MediaOwner:
    """A content-shaped peer: media with owners and states, and the lookup's filters."""

    def __init__(self) -> None:
        self.media = {"m1": ("alice", "READY"), "m2": ("alice", "UPLOADING"),
                      "m3": ("bob", "READY")}
        self.calls = 0

    async def lookup(self, request: InternalRequest) -> dict[str, Any]:
        self.calls += 1
        body = request.body
        return {"found": [i for i in body["ids"] if i in self.media
                          and body.get("ownerId", self.media[i][0]) == self.media[i][0]
                          and body.get("status", self.media[i][1]) == self.media[i][1]]}


async def test_require_matching_asks_the_owner_every_time_and_names_what_fails() -> None:
    state = _MediaOwner()
    social = ServiceIdentity(name="social", keys=SigningKeys.generate())
    app = internal_app([InternalRoute(path=MEDIA.path, handler=state.lookup,
                                      callers=frozenset({"social"}))],
                       keyring=ServiceKeyring(owner="content",
                                              public_keys={"social": public_key_text(social.keys)}))
    server = InternalServer(app=app, host="127.0.0.1", port=0)
    client = InternalClient(social, {"content": await server.start()})
    references = References(client)
    where = {"ownerId": "alice", "status": "READY"}
    try:
        await references.require_matching(MEDIA, ["m1"], field_name="mediaIds", where=where,
                                           reason="NOT_READY")
        await references.require_matching(MEDIA, ["m1"], field_name="mediaIds", where=where,
                                           reason="NOT_READY")
        assert state.calls == 2  # states change: never answered from the cache
        for other in ("m2", "m3"):
            with pytest.raises(BadUserInputError) as caught:
                await references.require_matching(MEDIA, ["m1", other], field_name="mediaIds",
                                                  where=where, reason="NOT_READY")
            assert caught.value.extensions["ids"] == [other]
            assert caught.value.extensions["reason"] == "NOT_READY"
        with pytest.raises(NotFoundError) as missing:
            await references.require_matching(MEDIA, ["m1", "m9"], field_name="mediaIds",
                                              where=where, reason="NOT_READY")
        assert missing.value.extensions["ids"] == ["m9"]
        state.media["m2"] = ("alice", "READY")  # finished processing: accepted at once
        await references.require_matching(MEDIA, ["m2"], field_name="mediaIds", where=where,
                                           reason="NOT_READY")
        # The existence check the kit already had keeps working on the same owner.
        await references.require(MEDIA, ["m3"], field_name="mediaIds")
    finally:
        await client.close()
        await server.stop()
