"""Sign-in messages checked against the EIP-4361 and Sign-In-With-Solana message grammars."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from subgraphs.identity.security.sign_in_messages import SIGN_IN_STATEMENT, SignInRequest
from subgraphs.identity.security.wallet_signatures import Chain

# The message ABNF of EIP-4361 (and SIWS, which copies it), for the fields identity writes.
GRAMMAR = re.compile(
    r"(?P<domain>[A-Za-z0-9.-]+(?::\d+)?) wants you to sign in with your (?P<account>Ethereum|Solana) account:\n"
    r"(?P<address>0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44})\n"
    r"\n"
    r"(?P<statement>[^\n]+)\n"
    r"\n"
    r"URI: (?P<uri>[a-z][a-z0-9+.-]*://\S+)\n"
    r"Version: 1\n"
    r"Chain ID: (?P<chain_id>\d+|mainnet|devnet|testnet|localnet)\n"
    r"Nonce: (?P<nonce>[A-Za-z0-9]{8,})\n"
    r"Issued At: (?P<issued>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\n"
    r"Expiration Time: (?P<expires>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)"
)
NOW = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(("chain", "address", "chain_id", "account"), [
    (Chain.ETHEREUM, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "1", "Ethereum"),
    (Chain.SOLANA, "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM", "mainnet", "Solana"),
])
def test_message_follows_the_standard(chain, address, chain_id, account):
    request = SignInRequest(domain="app.tributary.io", uri="https://app.tributary.io/", chain=chain,
                            address=address, chain_id=chain_id, nonce="a1b2c3d4e5f6a7b8",
                            issued_at=NOW, expires_at=NOW + timedelta(minutes=5))
    match = GRAMMAR.fullmatch(request.to_message())
    assert match is not None, request.to_message()
    assert match.groupdict() == {
        "domain": "app.tributary.io", "account": account, "address": address,
        "statement": SIGN_IN_STATEMENT, "uri": "https://app.tributary.io/", "chain_id": chain_id,
        "nonce": "a1b2c3d4e5f6a7b8", "issued": "2026-03-01T12:30:05Z", "expires": "2026-03-01T12:35:05Z",
    }


def test_nonce_and_times_are_checked_when_built():
    base = {"domain": "d.io", "uri": "https://d.io/", "chain": Chain.ETHEREUM,
            "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "chain_id": "1",
            "issued_at": NOW, "expires_at": NOW}
    with pytest.raises(AssertionError):
        SignInRequest(**base, nonce="short")
    with pytest.raises(AssertionError):
        SignInRequest(**{**base, "issued_at": NOW.replace(tzinfo=None)}, nonce="a1b2c3d4e5").to_message()
