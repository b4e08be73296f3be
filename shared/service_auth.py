"""Service credentials: each service signs short Ed25519 tokens with its own key.

A token names its issuer (`iss`), the one service it is for (`aud`) and expires within a minute.
The receiver verifies it with the public key pinned for that issuer, so the calling service's
name is proven by its key, never taken from a claim: a service holding only its own key can
speak only as itself, and a token minted for identity is refused by wallet.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.auth import SigningKeys
from shared.errors import UnauthenticatedError

__all__ = [
    "CLIENT_ADDRESS_HEADER",
    "SERVICE_TOKEN_HEADER",
    "ServiceIdentity",
    "ServiceKeyring",
    "dev_key_path",
    "load_service_identity",
    "public_key_text",
]

SERVICE_TOKEN_HEADER = "x-service-token"
# The client address the gateway computed; subgraphs believe it only beside the gateway's token.
CLIENT_ADDRESS_HEADER = "x-tributary-client-address"
_EDDSA = "EdDSA"
_AUDIENCE_PREFIX = "svc:"
_DEV_KEY_DIR = "service-keys"


def public_key_text(keys: SigningKeys) -> str:
    """The public half of `keys` as unpadded base64url of the raw 32 bytes (for settings)."""
    raw = keys.private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _parse_public_key(text: str) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True, slots=True)
class ServiceIdentity:
    """This service's name and private key: it mints the tokens the service presents."""

    name: str
    keys: SigningKeys
    ttl: int = 60

    def issue(self, *, audience: str) -> str:
        now = int(time.time())
        claims = {"iss": self.name, "sub": self.name, "aud": _AUDIENCE_PREFIX + audience,
                  "iat": now, "exp": now + self.ttl, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.keys.private_key, algorithm=_EDDSA,
                          headers={"typ": "JWT"})


class ServiceKeyring:
    """The public keys of the services this one accepts calls from, pinned by name."""

    def __init__(self, *, owner: str, public_keys: Mapping[str, str], leeway: float = 5.0) -> None:
        self.owner = owner
        self.leeway = leeway
        self._keys = {name: _parse_public_key(text) for name, text in public_keys.items()}
        # The gateway sends one token per minute on every request: verify it once.
        self._verified: OrderedDict[str, tuple[str, float]] = OrderedDict()

    @property
    def services(self) -> frozenset[str]:
        return frozenset(self._keys)

    def verify(self, token: str) -> str:
        """The name of the service that signed `token` for this one; UnauthenticatedError if not."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        service, expires = self._verify(token)
        self._verified[token] = (service, expires)
        if len(self._verified) > 1024:
            self._verified.popitem(last=False)
        return service

    def _verify(self, token: str) -> tuple[str, float]:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise UnauthenticatedError("Invalid service token: malformed") from None
        issuer = unverified.get("iss")
        key = self._keys.get(issuer) if isinstance(issuer, str) else None
        if key is None:
            raise UnauthenticatedError("Invalid service token: unknown service")
        try:
            claims = jwt.decode(token, key, algorithms=[_EDDSA],
                                audience=_AUDIENCE_PREFIX + self.owner, issuer=issuer,
                                leeway=self.leeway,
                                options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError("Service token expired") from None
        except jwt.InvalidAudienceError:
            raise UnauthenticatedError("Invalid service token: meant for another service") from None
        except jwt.PyJWTError:
            raise UnauthenticatedError("Invalid service token: bad signature") from None
        return str(claims["iss"]), float(claims["exp"])


def dev_key_path(data_dir: Path, name: str) -> Path:
    """Where dev and test keep `name`'s generated service key (the dev stack shares one dir)."""
    return data_dir / _DEV_KEY_DIR / f"{name}.pem"


def load_service_identity(*, name: str, pem: str | None, data_dir: Path,
                          production: bool) -> ServiceIdentity:
    """This service's credential: the configured PEM, else (not in prod) a generated dev key."""
    if pem:
        # An env file may carry the PEM on one line with literal \n escapes.
        return ServiceIdentity(name=name, keys=SigningKeys.from_pem(pem.replace("\\n", "\n")))
    if production:
        raise ValueError("service_key: prod needs this service's own Ed25519 key (PKCS#8 PEM)")
    return ServiceIdentity(name=name, keys=SigningKeys.load(path=dev_key_path(data_dir, name),
                                                            create=True))


def _keygen(names: list[str]) -> str:
    """Environment lines for a deployment: each service's own key and the shared public keys."""
    import json

    lines, public = [], {}
    for name in names:
        keys = SigningKeys.generate()
        public[name] = public_key_text(keys)
        pem = keys.to_pem().decode().strip().replace("\n", "\\n")
        lines.append(f'{name.upper()}_SERVICE_KEY="{pem}"')
    shared = json.dumps(public, separators=(",", ":"))
    lines += [f"{name.upper()}_SERVICE_PUBLIC_KEYS='{shared}'" for name in names]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - deployment helper
    import sys

    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print("usage: python -m shared.service_auth SERVICE... "
              "(prints each service's key and everyone's public keys as env lines)")
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    print(_keygen(sys.argv[1:]))
