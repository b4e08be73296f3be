"""The client's address, worked out once at the front door and handed to every subgraph.

Only a proxy the operator lists (`GATEWAY_TRUSTED_PROXIES`, CIDRs) may speak for a client: then
the address is the rightmost `X-Forwarded-For` hop that is not itself a trusted proxy. Entries
to the left of it were written by the client and are ignored, so a client that rotates made-up
addresses in the header cannot change its rate-limit key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from shared.service_auth import CLIENT_ADDRESS_HEADER

__all__ = ["CLIENT_ADDRESS_HEADER", "TrustedProxies", "client_address"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, cidrs: Sequence[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: TrustedProxies) -> str:
    """The socket peer, or through trusted proxies the rightmost untrusted forwarded hop."""
    address = peer or "unknown"
    if not forwarded_for or address not in trusted:
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        if not hop:
            continue
        address = hop[:64]
        if hop not in trusted:
            break
    return address
