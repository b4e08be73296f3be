"""Wallet sign-in on SQLite and PostgreSQL: single-use expiring nonces, real signatures, linking."""

from __future__ import annotations

from datetime import timedelta

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct

from shared.errors import BadUserInputError, ConflictError, NotFoundError, UnauthenticatedError
from subgraphs.identity.security.wallet_signatures import Chain
from subgraphs.identity.services import users, wallets

TTL = timedelta(minutes=5)


class SolanaWallet:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.address = base58.b58encode(raw).decode()
        self.chain = Chain.SOLANA

    def sign(self, message: str) -> str:
        return base58.b58encode(self.key.sign(message.encode())).decode()


class EthereumWallet:
    def __init__(self) -> None:
        self.account = Account.create()
        self.address = self.account.address
        self.chain = Chain.ETHEREUM

    def sign(self, message: str) -> str:
        return Account.sign_message(encode_defunct(text=message), self.account.key).signature.hex()


@pytest.fixture(params=[SolanaWallet, EthereumWallet], ids=["solana", "ethereum"])
def wallet(request):
    return request.param()


async def challenge(session, wallet, ttl=TTL):
    return await wallets.create_challenge(session=session, chain=wallet.chain, address=wallet.address, ttl=ttl, domain="tributary.test",
                                           uri="https://tributary.test/", chain_id="1" if wallet.chain is Chain.ETHEREUM else "mainnet")


async def test_first_sign_in_creates_account_then_reuses_it(session, wallet, count_rows):
    c = await challenge(session, wallet)
    assert wallet.address in c.message and c.nonce in c.message
    user = await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=wallet.sign(c.message))
    await session.commit()
    assert user.password_hash is None and user.handle.startswith(("sol_", "eth_"))
    c2 = await challenge(session, wallet)
    again = await wallets.sign_in_with_wallet(session=session, nonce=c2.nonce, signature=wallet.sign(c2.message))
    await session.commit()
    assert again.id == user.id
    counts = await count_rows()
    assert (counts["identity_users"], counts["identity_wallets"]) == (1, 1)


async def test_replayed_nonce_is_refused(session, wallet, count_rows):
    c = await challenge(session, wallet)
    signature = wallet.sign(c.message)
    await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=signature)
    await session.commit()
    before = await count_rows()
    with pytest.raises(UnauthenticatedError) as info:
        await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=signature)
    assert info.value.extensions == {"reason": "NONCE_REUSED", "code": "UNAUTHENTICATED"}
    assert await count_rows() == before


async def test_wrong_signature_spends_nonce_and_creates_nothing(session, wallet, count_rows):
    c = await challenge(session, wallet)
    impostor = type(wallet)()
    with pytest.raises(UnauthenticatedError) as info:
        await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=impostor.sign(c.message))
    assert info.value.extensions == {"reason": "BAD_SIGNATURE", "code": "UNAUTHENTICATED"}
    counts = await count_rows()
    assert (counts["identity_users"], counts["identity_wallets"]) == (0, 0)
    # Even the right signature cannot use a nonce that already had its one attempt.
    with pytest.raises(UnauthenticatedError, match="already used"):
        await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=wallet.sign(c.message))


async def test_signature_over_other_message_fails(session, wallet):
    c = await challenge(session, wallet)
    with pytest.raises(UnauthenticatedError):
        await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=wallet.sign(c.message + " "))


async def test_malformed_signature_is_bad_input_and_keeps_nonce(session, wallet):
    c = await challenge(session, wallet)
    with pytest.raises(BadUserInputError):
        await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature="not-a-signature")
    await session.rollback()
    user = await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=wallet.sign(c.message))
    assert user is not None


async def test_expired_and_unknown_nonces(session, wallet, count_rows):
    c = await challenge(session, wallet, ttl=timedelta(seconds=-1))
    before = await count_rows()
    with pytest.raises(UnauthenticatedError) as info:
        await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=wallet.sign(c.message))
    assert info.value.extensions == {"reason": "EXPIRED", "code": "UNAUTHENTICATED"}
    for nonce in ["0" * 32, "' OR 1=1 --", "n" * 1_000_000]:
        with pytest.raises(UnauthenticatedError) as info:
            await wallets.sign_in_with_wallet(session=session, nonce=nonce, signature=wallet.sign(c.message))
        assert info.value.extensions == {"reason": "UNKNOWN_NONCE", "code": "UNAUTHENTICATED"}
    assert await count_rows() == before


async def test_link_wallet_to_existing_account(session, hasher, wallet):
    alice = await users.register_user(session=session, hasher=hasher, handle="alice", password="Correct-Horse-42")
    bob = await users.register_user(session=session, hasher=hasher, handle="bob", password="Correct-Horse-42")
    c = await challenge(session, wallet)
    linked = await wallets.link_wallet(session=session, user_id=alice.id, nonce=c.nonce, signature=wallet.sign(c.message))
    assert (linked.user_id, linked.address) == (alice.id, wallet.address)
    # Signing in with it now lands in alice's account.
    c2 = await challenge(session, wallet)
    assert (await wallets.sign_in_with_wallet(session=session, nonce=c2.nonce, signature=wallet.sign(c2.message))).id == alice.id
    await session.commit()
    c3 = await challenge(session, wallet)
    with pytest.raises(ConflictError):
        await wallets.link_wallet(session=session, user_id=bob.id, nonce=c3.nonce, signature=wallet.sign(c3.message))
    assert [w.address for w in await wallets.list_wallets(session=session, user_id=bob.id)] == []
    await wallets.unlink_wallet(session=session, user_id=alice.id, chain=wallet.chain, address=wallet.address)
    with pytest.raises(NotFoundError):
        await wallets.unlink_wallet(session=session, user_id=alice.id, chain=wallet.chain, address=wallet.address)


async def test_cannot_unlink_last_sign_in_method(session, wallet):
    c = await challenge(session, wallet)
    user = await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=wallet.sign(c.message))
    await session.commit()
    with pytest.raises(ConflictError):
        await wallets.unlink_wallet(session=session, user_id=user.id, chain=wallet.chain, address=wallet.address)


async def test_wallet_account_sets_first_password_then_may_unlink(session, hasher, wallet):
    from subgraphs.identity.services import sessions

    c = await challenge(session, wallet)
    user = await wallets.sign_in_with_wallet(session=session, nonce=c.nonce, signature=wallet.sign(c.message))
    await session.commit()
    await users.change_password(session=session, hasher=hasher, user_id=user.id, current_password=None, new_password="Correct-Horse-42")
    issued = await sessions.login(session=session, hasher=hasher, login=user.handle, password="Correct-Horse-42", refresh_ttl=TTL)
    assert issued.user.id == user.id
    # From now on the current password is required.
    with pytest.raises(UnauthenticatedError):
        await users.change_password(session=session, hasher=hasher, user_id=user.id, current_password=None, new_password="Another-Horse-77")
    await wallets.unlink_wallet(session=session, user_id=user.id, chain=wallet.chain, address=wallet.address)
    assert await wallets.list_wallets(session=session, user_id=user.id) == []
