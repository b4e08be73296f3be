"""ed25519 (Solana-style base58 keys) and EIP-191 personal_sign checks with real keys."""

from __future__ import annotations

import base64

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct

from shared.errors import BadUserInputError
from subgraphs.identity.security.wallet_signatures import (
    Chain,
    normalize_address,
    verify_wallet_signature,
)


def solana_keypair() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, base58.b58encode(raw).decode()


def test_ed25519_base58_and_base64_signatures():
    key, address = solana_keypair()
    signature = key.sign(b"hello")
    assert verify_wallet_signature(Chain.SOLANA, address, "hello", base58.b58encode(signature).decode())
    assert verify_wallet_signature(Chain.SOLANA, address, "hello", base64.b64encode(signature).decode())
    assert not verify_wallet_signature(Chain.SOLANA, address, "hellO", base58.b58encode(signature).decode())
    other, _ = solana_keypair()
    assert not verify_wallet_signature(Chain.SOLANA, address, "hello", base58.b58encode(other.sign(b"hello")).decode())


def test_eip191_personal_sign():
    account = Account.create()
    signed = Account.sign_message(encode_defunct(text="hello"), account.key)
    address = normalize_address(Chain.ETHEREUM, account.address.lower())
    assert address == account.address
    assert verify_wallet_signature(Chain.ETHEREUM, address, "hello", signed.signature.hex())
    assert not verify_wallet_signature(Chain.ETHEREUM, address, "hellO", signed.signature.hex())
    other = Account.create()
    assert not verify_wallet_signature(Chain.ETHEREUM, other.address, "hello", signed.signature.hex())


@pytest.mark.parametrize(
    ("chain", "address"),
    [(Chain.ETHEREUM, "0x123"), (Chain.ETHEREUM, "0x" + "g" * 40), (Chain.SOLANA, "0OIl"), (Chain.SOLANA, "1" * 44), (Chain.SOLANA, "x" * 1_000_000)],
)
def test_bad_addresses(chain, address):
    with pytest.raises(BadUserInputError):
        normalize_address(chain, address)


@pytest.mark.parametrize("signature", ["", "abc", "0x" + "00" * 10, "z" * 1_000_000])
def test_malformed_signatures_are_bad_input(signature):
    _, address = solana_keypair()
    with pytest.raises(BadUserInputError):
        verify_wallet_signature(Chain.SOLANA, address, "m", signature)
    account = Account.create()
    with pytest.raises(BadUserInputError):
        verify_wallet_signature(Chain.ETHEREUM, account.address, "m", signature)


def test_well_formed_but_invalid_eth_signature_is_false():
    account = Account.create()
    assert not verify_wallet_signature(Chain.ETHEREUM, account.address, "m", "0x" + "00" * 65)
