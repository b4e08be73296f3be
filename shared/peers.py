"""A service's ties to the others: its own credential, whom it trusts, and how it calls them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.api_keys import RemoteApiKeys
from shared.config import ServiceSettings
from shared.internal import InternalClient
from shared.references import References
from shared.service_auth import ServiceIdentity, ServiceKeyring, load_service_identity

__all__ = ["Peers"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Peers:
    identity: ServiceIdentity  # signs this service's calls
    keyring: ServiceKeyring  # verifies calls made to this service
    client: InternalClient
    references: References
    # Identity's verdict on API keys (None in identity itself, or when identity is not a peer).
    api_keys: RemoteApiKeys | None

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Peers:
        identity = load_service_identity(
            name=settings.service_name, pem=settings.service_key,
            data_dir=Path(settings.data_dir), production=settings.environment == "prod")
        client = InternalClient(identity, settings.peers)
        api_keys = (RemoteApiKeys(client)
                    if client.knows("identity") and settings.service_name != "identity" else None)
        return cls(identity=identity, client=client, references=References(client),
                   api_keys=api_keys,
                   keyring=ServiceKeyring(owner=settings.service_name,
                                          public_keys=settings.service_public_keys))
