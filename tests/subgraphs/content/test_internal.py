"""content's media lookup on its internal port: the callers it names, the filters it applies."""

from __future__ import annotations

import pytest

from shared.auth import SigningKeys
from shared.errors import BadUserInputError, ServiceUnavailableError
from shared.internal import InternalClient, InternalServer, internal_app
from shared.references import MEDIA
from shared.service_auth import ServiceIdentity, ServiceKeyring, public_key_text
from subgraphs.content.internal import internal_routes
from subgraphs.content.models import Media


@pytest.fixture
async def lookup(database):
    callers = {name: ServiceIdentity(name=name, keys=SigningKeys.generate())
               for name in ("social", "moderation", "wallet")}
    keyring = ServiceKeyring(owner="content", public_keys={
        n: public_key_text(i.keys) for n, i in callers.items()})
    server = InternalServer(app=internal_app(internal_routes(database=database), keyring=keyring),
                            host="127.0.0.1", port=0)
    url = await server.start()
    clients = {n: InternalClient(i, {"content": url}) for n, i in callers.items()}
    async with database.session() as session, session.begin():
        for media_id, owner, status in [("m1", "alice", "READY"), ("m2", "alice", "UPLOADING"),
                                        ("m3", "bob", "READY")]:
            session.add(Media(id=media_id, owner_id=owner, kind="IMAGE", status=status,
                              filename="a.png", size=1))
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.close()
        await server.stop()


async def test_lookup_answers_existing_ids_and_applies_owner_and_status(lookup):
    social = lookup["social"]
    everything = await social.call("content", MEDIA.path, {"ids": ["m1", "m2", "m3", "nope"]})
    assert sorted(everything["found"]) == ["m1", "m2", "m3"]
    assert everything["media"]["m2"] == {"ownerId": "alice", "status": "UPLOADING",
                                         "kind": "IMAGE"}
    ready_of_alice = await lookup["moderation"].call(
        "content", MEDIA.path, {"ids": ["m1", "m2", "m3"], "ownerId": "alice",
                                "status": "READY"})
    assert ready_of_alice["found"] == ["m1"] and list(ready_of_alice["media"]) == ["m1"]
    with pytest.raises(BadUserInputError):
        await social.call("content", MEDIA.path, {"ids": ["m1"], "status": "DONE"})
    with pytest.raises(BadUserInputError):
        await social.call("content", MEDIA.path, {"ids": "m1"})


async def test_services_the_route_does_not_name_are_refused(lookup):
    # The wallet references no media: its own valid credential is refused (a deployment fault,
    # so the caller sees the peer as unavailable and fails closed).
    with pytest.raises(ServiceUnavailableError):
        await lookup["wallet"].call("content", MEDIA.path, {"ids": ["m1"]})
