"""Wallet signature checks: ed25519 over base58 public keys (Solana) and EIP-191 personal_sign."""

from __future__ import annotations

import base64
import binascii
import enum
import re

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address

from shared.errors import BadUserInputError

__all__ = ["Chain", "normalize_address", "verify_wallet_signature"]

_ETH_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")
_HEX_SIG = re.compile(r"^(0x)?[0-9a-fA-F]{130}$")


class Chain(enum.StrEnum):
    SOLANA = "SOLANA"
    ETHEREUM = "ETHEREUM"


def normalize_address(chain: Chain, address: str) -> str:
    """Canonical form of an address (EIP-55 checksum for Ethereum); BadUserInputError if invalid."""
    address = address.strip()
    if chain is Chain.ETHEREUM:
        if not _ETH_ADDRESS.match(address):
            raise _bad("Ethereum address must be 0x followed by 40 hex digits.", "address")
        return str(to_checksum_address(address))
    if not _BASE58.match(address) or len(base58.b58decode(address)) != 32:
        raise _bad("Solana address must be a base58-encoded 32-byte ed25519 public key.", "address")
    return address


def verify_wallet_signature(chain: Chain, address: str, message: str, signature: str) -> bool:
    """True when `signature` over `message` comes from `address`'s key.

    A signature that cannot even be decoded raises BadUserInputError; a well-formed one made by
    another key returns False.
    """
    if chain is Chain.ETHEREUM:
        return _verify_eip191(address, message, signature)
    return _verify_ed25519(address, message, signature)


def _verify_ed25519(address: str, message: str, signature: str) -> bool:
    raw = _decode_ed25519_signature(signature.strip())
    key = Ed25519PublicKey.from_public_bytes(base58.b58decode(address))
    try:
        key.verify(raw, message.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


def _decode_ed25519_signature(signature: str) -> bytes:
    # Wallet adapters hand back raw bytes; apps usually send them as base58, sometimes base64.
    if len(signature) <= 100:
        if re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]+", signature):
            raw = base58.b58decode(signature)
            if len(raw) == 64:
                return raw
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 64:
            return raw
    raise _bad("Signature must be a 64-byte ed25519 signature in base58 or base64.", "signature")


def _verify_eip191(address: str, message: str, signature: str) -> bool:
    signature = signature.strip()
    if not _HEX_SIG.match(signature):
        raise _bad("Signature must be a 65-byte hex personal_sign signature.", "signature")
    try:
        recovered = Account.recover_message(encode_defunct(text=message), signature=signature)
    except Exception:  # noqa: BLE001 - eth-account raises assorted errors for invalid v/r/s
        return False
    return bool(recovered == address)


def _bad(message: str, field: str) -> BadUserInputError:
    return BadUserInputError(message, extensions={"field": field})
