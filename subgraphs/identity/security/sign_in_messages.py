"""Wallet sign-in messages: EIP-4361 (Sign-In with Ethereum) and Sign-In-With-Solana.

Both standards share one layout (SIWS copies EIP-4361's); only the account line names the chain
and the Chain ID differs (an EIP-155 number, a Solana cluster). Identity writes the message and
keeps it, and checks the signature over exactly the stored text, so it never parses one a
client sends: wallets parse it to show the domain and warn when it is not the site they are on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from subgraphs.identity.security.wallet_signatures import Chain

__all__ = ["SIGN_IN_STATEMENT", "VERSION", "SignInRequest"]

VERSION = "1"
SIGN_IN_STATEMENT = (
    "Sign in to Tributary. This request will not trigger a transaction or cost any fees."
)


@dataclass(frozen=True, kw_only=True, slots=True)
class SignInRequest:
    domain: str  # RFC 3986 authority asking for the signature (host[:port])
    uri: str  # RFC 3986 URI of the thing signed into
    chain: Chain
    address: str  # EIP-55 checksummed (Ethereum) or base58 public key (Solana)
    chain_id: str  # EIP-155 chain id ("1") or a Solana cluster ("mainnet")
    nonce: str  # at least 8 alphanumeric characters
    issued_at: datetime  # UTC
    expires_at: datetime  # UTC
    statement: str = SIGN_IN_STATEMENT

    def __post_init__(self) -> None:
        assert self.nonce.isalnum() and len(self.nonce) >= 8, "nonce: 8+ alphanumerics"
        assert "\n" not in self.statement, "statement: one line"

    def to_message(self) -> str:
        account = "Ethereum" if self.chain is Chain.ETHEREUM else "Solana"
        return "\n".join([
            f"{self.domain} wants you to sign in with your {account} account:",
            self.address,
            "",
            self.statement,
            "",
            f"URI: {self.uri}",
            f"Version: {VERSION}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {_utc(self.issued_at)}",
            f"Expiration Time: {_utc(self.expires_at)}",
        ])


def _utc(value: datetime) -> str:
    assert value.utcoffset() == timedelta(0), "sign-in times are UTC"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
