"""Cryptographic building blocks of identity: password hashing, opaque secrets, wallet signatures."""

from subgraphs.identity.security.passwords import PasswordHasher, check_password_strength
from subgraphs.identity.security.secrets import (
    hash_secret,
    new_api_key,
    new_nonce,
    new_refresh_token,
    parse_api_key,
)
from subgraphs.identity.security.wallet_signatures import (
    Chain,
    normalize_address,
    verify_wallet_signature,
)

__all__ = [
    "Chain",
    "PasswordHasher",
    "check_password_strength",
    "hash_secret",
    "new_api_key",
    "new_nonce",
    "new_refresh_token",
    "normalize_address",
    "parse_api_key",
    "verify_wallet_signature",
]
