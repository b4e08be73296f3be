"""Social's internal API on its own port: the block check wallet asks before a tip."""

from __future__ import annotations

import pytest

from shared.auth import SigningKeys
from shared.errors import BadUserInputError, ServiceUnavailableError
from shared.internal import InternalClient, InternalServer, internal_app
from shared.service_auth import ServiceIdentity, ServiceKeyring, public_key_text
from subgraphs.social.internal import BLOCKS_CHECK, internal_routes
from subgraphs.social.services import blocks

WALLET = ServiceIdentity(name="wallet", keys=SigningKeys.generate())
IDENTITY = ServiceIdentity(name="identity", keys=SigningKeys.generate())


async def test_wallet_learns_whether_two_users_blocked_one_another(database, kv):
    async with database.session() as session:
        await blocks.block(session=session, kv=kv, blocker_id="alice", blocked_id="bob")
    keyring = ServiceKeyring(owner="social", public_keys={
        "wallet": public_key_text(WALLET.keys), "identity": public_key_text(IDENTITY.keys)})
    server = InternalServer(app=internal_app(internal_routes(database=database), keyring=keyring),
                            host="127.0.0.1", port=0)
    url = await server.start()
    wallet, identity = InternalClient(WALLET, {"social": url}), InternalClient(IDENTITY, {"social": url})
    try:
        # Either direction counts: the blocked user cannot tip, nor the blocker.
        for sender, recipient, blocked in [("bob", "alice", True), ("alice", "bob", True),
                                           ("bob", "carol", False)]:
            answer = await wallet.call("social", BLOCKS_CHECK, {"userId": sender, "otherId": recipient})
            assert answer == {"blocked": blocked}, (sender, recipient)
        with pytest.raises(BadUserInputError):
            await wallet.call("social", BLOCKS_CHECK, {"userId": "bob", "otherId": 7})
        # Not on the route's caller list: refused, which the caller sees as the peer being unusable.
        with pytest.raises(ServiceUnavailableError):
            await identity.call("social", BLOCKS_CHECK, {"userId": "bob", "otherId": "alice"})
    finally:
        await wallet.close()
        await identity.close()
        await server.stop()
