"""The client address: the socket peer, or through listed proxies the rightmost untrusted hop."""

from __future__ import annotations

import pytest

from gateway.server.client_address import TrustedProxies, client_address

PROXIES = TrustedProxies(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        # Not through a listed proxy: the client's own header counts for nothing.
        ("203.0.113.5", "6.6.6.6", "203.0.113.5"),
        # Through the proxy: its hop is the client; what the client wrote to the left is ignored.
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.1.1.1", "198.51.100.7"),
        ("fd00::1", "2001:db8::9", "2001:db8::9"),
        # Only proxies in the chain: the leftmost is all that is known.
        ("10.0.0.2", "10.0.0.3", "10.0.0.3"),
        ("10.0.0.2", "", "10.0.0.2"),
        (None, "6.6.6.6", "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: str | None, expected: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_a_rotating_forwarded_header_does_not_change_the_key() -> None:
    keys = {client_address("10.0.0.2", f"{i}.{i}.{i}.{i}, 198.51.100.7", PROXIES)
            for i in range(1, 50)}
    assert keys == {"198.51.100.7"}


def test_garbage_is_never_a_trusted_proxy() -> None:
    assert "not-an-ip" not in PROXIES
    assert client_address("10.0.0.2", "junk, 198.51.100.7", PROXIES) == "198.51.100.7"
