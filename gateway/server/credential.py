"""The gateway's own service credential, presented to every subgraph beside each request.

Subgraphs trust the client address the gateway sends, and answer `_entities`/`_service`, only
beside this token. Tokens are cached per subgraph and renewed at half their lifetime, so the
hot path pays a dictionary lookup, not an Ed25519 signature.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from shared.service_auth import SERVICE_TOKEN_HEADER, ServiceIdentity, load_service_identity

__all__ = ["GatewayCredential"]


class GatewayCredential:
    def __init__(self, identity: ServiceIdentity) -> None:
        self.identity = identity
        self._tokens: dict[str, tuple[dict[str, str], float]] = {}

    @classmethod
    def load(cls, *, pem: str | None, data_dir: Path | None) -> GatewayCredential | None:
        """From the configured PEM, or (dev) the generated key in `data_dir`; None without both."""
        if not pem and data_dir is None:
            return None
        identity = load_service_identity(name="gateway", pem=pem, data_dir=data_dir or Path("."),
                                         production=data_dir is None)
        return cls(identity)

    def headers(self, service: str) -> Mapping[str, str]:
        now = time.monotonic()
        cached = self._tokens.get(service)
        if cached is not None and cached[1] > now:
            return cached[0]
        headers = {SERVICE_TOKEN_HEADER: self.identity.issue(audience=service)}
        self._tokens[service] = (headers, now + self.identity.ttl / 2)
        return headers
