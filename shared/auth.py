"""Callers, Ed25519 access tokens (issue + verify with JWKS caching) and request authentication."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.errors import ForbiddenError, UnauthenticatedError
from shared.revocation import now_us

if TYPE_CHECKING:
    from shared.revocation import TokenRevocations

__all__ = [
    "ANONYMOUS",
    "ApiKeyResolver",
    "Caller",
    "SigningKeys",
    "TokenIssuer",
    "TokenVerifier",
    "authenticate_request",
]

_EDDSA = "EdDSA"
_HS256 = "HS256"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is making a request: a user (via token or API key), a service, or nobody."""

    user_id: str | None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    api_key_id: str | None = None
    token_id: str | None = None
    service: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.service is not None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def require_user(self) -> str:
        if self.user_id is None:
            raise UnauthenticatedError("Authentication required")
        return self.user_id

    def require_role(self, *roles: str) -> None:
        """Pass if the caller holds any of `roles`."""
        self.require_user()
        if not self.roles.intersection(roles):
            raise ForbiddenError(f"Requires role {' or '.join(roles)}")

    def require_service(self) -> str:
        if self.service is None:
            raise ForbiddenError("Internal API: service credentials required")
        return self.service


ANONYMOUS = Caller(user_id=None)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """An Ed25519 signing key with its key id (RFC 7638 thumbprint unless given)."""

    private_key: Ed25519PrivateKey
    kid: str = ""
    # Public JWKs of retired keys, still published so tokens they signed verify until expiry.
    previous: tuple[dict[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.kid:
            object.__setattr__(self, "kid", self._thumbprint())

    @classmethod
    def generate(cls) -> SigningKeys:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: str | bytes, *, kid: str = "") -> SigningKeys:
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("signing key must be an Ed25519 private key (PKCS#8 PEM)")
        return cls(key, kid=kid)

    @classmethod
    def load(cls, *, pem: str | None = None, path: Path | None = None,
             create: bool = False) -> SigningKeys:
        """Keys from a PEM string (env), else from `path`, else (dev, `create`) new ones saved there."""
        if pem:
            return cls.from_pem(pem)
        if path is not None and path.exists():
            return cls.from_pem(path.read_bytes())
        if path is not None and create:
            keys = cls.generate()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(keys.to_pem())
            return keys
        raise ValueError("no signing key configured (set a PEM or a key file)")

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def _public_x(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return _b64url(raw)

    def _thumbprint(self) -> str:
        canonical = json.dumps(
            {"crv": "Ed25519", "kty": "OKP", "x": self._public_x()},
            separators=(",", ":"), sort_keys=True,
        )
        return _b64url(hashlib.sha256(canonical.encode()).digest())

    def public_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": self._public_x(), "kid": self.kid,
                "alg": _EDDSA, "use": "sig"}


class TokenIssuer:
    """Signs access tokens (identity only) and publishes the matching JWKS."""

    def __init__(self, keys: SigningKeys, *, issuer: str, audience: str,
                 access_ttl: int = 900) -> None:
        assert access_ttl > 0, "access_ttl must be positive"
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl

    def issue_access_token(self, *, user_id: str, roles: Iterable[str],
                           scopes: Iterable[str] = (), token_id: str | None = None,
                           api_key_id: str | None = None,
                           extra: Mapping[str, Any] | None = None) -> str:
        issued_us = now_us()
        now = issued_us // 1_000_000
        claims: dict[str, Any] = {
            **(extra or {}),
            "iss": self.issuer, "aud": self.audience, "sub": user_id,
            "iat": now, "nbf": now, "exp": now + self.access_ttl,
            # Microsecond issue time, compared with revocation times (`shared.revocation`).
            "iat_us": issued_us,
            "jti": token_id or uuid.uuid4().hex,
            "roles": sorted(set(roles)), "scope": " ".join(sorted(set(scopes))),
        }
        if api_key_id is not None:
            claims["akid"] = api_key_id
        return jwt.encode(claims, self.keys.private_key, algorithm=_EDDSA,
                          headers={"kid": self.keys.kid, "typ": "JWT"})

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.keys.public_jwk(), *self.keys.previous]}


def _claims_to_caller(claims: Mapping[str, Any]) -> Caller:
    roles = claims.get("roles", [])
    scope = claims.get("scope", "")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise UnauthenticatedError("Invalid token: malformed roles claim")
    if not isinstance(scope, str):
        raise UnauthenticatedError("Invalid token: malformed scope claim")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise UnauthenticatedError("Invalid token: missing subject")
    return Caller(user_id=sub, roles=frozenset(roles), scopes=frozenset(scope.split()),
                  api_key_id=claims.get("akid"), token_id=claims.get("jti"))


class TokenVerifier:
    """Verifies access tokens: Ed25519 keys from a JWKS URL (cached) or static keys; HS256 in dev."""

    def __init__(self, *, issuer: str, audience: str, jwks_url: str | None = None,
                 jwks: Mapping[str, Any] | None = None, hs256_secret: str | None = None,
                 cache_seconds: float = 300.0, min_refresh_seconds: float = 1.0,
                 leeway: float = 30.0, timeout: float = 5.0,
                 revocations: TokenRevocations | None = None) -> None:
        assert jwks_url or jwks or hs256_secret, "TokenVerifier needs a JWKS URL, a JWKS or a secret"
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.hs256_secret = hs256_secret
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.leeway = leeway
        self.timeout = timeout
        # Checked on every verify, cached or not (`shared.revocation`); the app factory sets it.
        self.revocations = revocations
        self._keys: dict[str, Ed25519PublicKey] = {}
        # Verified tokens until they expire: a client sends the same token on every request,
        # and the Ed25519 check was the largest cost of an authenticated request.
        self._verified: OrderedDict[str, tuple[Caller, float, int]] = OrderedDict()
        self.cache_size = 4096
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0
        if jwks is not None:
            self._keys = _parse_jwks(jwks)

    @classmethod
    def from_settings(cls, settings: Any, *, jwks: Mapping[str, Any] | None = None
                      ) -> TokenVerifier | None:
        """A verifier for a ServiceSettings, or None when nothing is configured."""
        if not (settings.jwks_url or jwks or settings.jwt_dev_hs256_secret):
            return None
        return cls(issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                   jwks_url=settings.jwks_url, jwks=jwks,
                   hs256_secret=settings.jwt_dev_hs256_secret,
                   cache_seconds=settings.jwks_cache_seconds)

    @classmethod
    def for_issuer(cls, issuer: TokenIssuer) -> TokenVerifier:
        """A verifier trusting `issuer`'s keys directly (identity verifies its own tokens)."""
        verifier = cls(issuer=issuer.issuer, audience=issuer.audience, jwks=issuer.jwks())
        return verifier

    async def verify(self, token: str) -> Caller:
        caller, issued_us = await self._verify_signed(token)
        if (self.revocations is not None and caller.user_id is not None
                and await self.revocations.is_revoked(caller.user_id, issued_us=issued_us)):
            raise UnauthenticatedError("Token has been revoked", extensions={"reason": "revoked"})
        return caller

    async def _verify_signed(self, token: str) -> tuple[Caller, int]:
        cached = self._verified.get(token)
        if cached is not None:
            if cached[1] > time.time():
                self._verified.move_to_end(token)
                return cached[0], cached[2]
            del self._verified[token]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthenticatedError("Invalid token: malformed") from None
        alg = header.get("alg")
        if alg == _EDDSA:
            key: Any = await self._key_for(header.get("kid"))
        elif alg == _HS256 and self.hs256_secret:
            key = self.hs256_secret
        else:
            raise UnauthenticatedError(f"Invalid token: algorithm {alg!r} not accepted")
        claims = self._decode(token, key, alg)
        caller = _claims_to_caller(claims)
        issued_us = _issued_us(claims)
        self._verified[token] = (caller, float(claims["exp"]), issued_us)
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return caller, issued_us

    def _decode(self, token: str, key: Any, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(token, key, algorithms=[alg], audience=self.audience,
                              issuer=self.issuer, leeway=self.leeway,
                              options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError("Token expired", extensions={"reason": "expired"}) from None
        except jwt.InvalidAudienceError:
            raise UnauthenticatedError("Invalid token: wrong audience") from None
        except jwt.InvalidIssuerError:
            raise UnauthenticatedError("Invalid token: wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise UnauthenticatedError("Invalid token: bad signature") from None
        except jwt.PyJWTError as error:
            raise UnauthenticatedError(f"Invalid token: {error}") from None

    async def _key_for(self, kid: Any) -> Ed25519PublicKey:
        if not isinstance(kid, str):
            raise UnauthenticatedError("Invalid token: missing key id")
        stale = self._fetched_at is not None and (
            time.monotonic() - self._fetched_at > self.cache_seconds)
        if (kid not in self._keys or stale) and self.jwks_url:
            await self._refresh(force=stale)
        key = self._keys.get(kid)
        if key is None:
            raise UnauthenticatedError("Invalid token: unknown signing key")
        return key

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            # A flood of tokens with made-up kids must not turn into a flood of JWKS fetches.
            recent = self._fetched_at is not None and (
                time.monotonic() - self._fetched_at < self.min_refresh_seconds)
            if recent and not force:
                return
            assert self.jwks_url is not None
            try:
                timeout = aiohttp.ClientTimeout(total=self.timeout)
                async with (
                    aiohttp.ClientSession(timeout=timeout) as http,
                    http.get(self.jwks_url) as response,
                ):
                    response.raise_for_status()
                    document = await response.json(content_type=None)
                keys = _parse_jwks(document)
            except (TimeoutError, aiohttp.ClientError, ValueError, TypeError, KeyError) as error:
                if self._keys:
                    return  # keep serving cached keys while identity is unreachable
                raise UnauthenticatedError(
                    f"Cannot verify token: key set unavailable ({type(error).__name__})"
                ) from None
            self.fetch_count += 1
            self._keys = keys
            self._fetched_at = time.monotonic()


def _issued_us(claims: Mapping[str, Any]) -> int:
    exact = claims.get("iat_us")
    if isinstance(exact, int) and not isinstance(exact, bool):
        return exact
    # Tokens without it (dev HS256) count from the start of their second: never later.
    return int(claims["iat"]) * 1_000_000


def _parse_jwks(document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "kid" not in jwk:
            continue
        raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
        keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


ApiKeyResolver = Callable[[str], Awaitable[Caller | None]]


async def authenticate_request(headers: Mapping[str, str], verifier: TokenVerifier | None, *,
                               api_key_resolver: ApiKeyResolver | None = None) -> Caller:
    """The caller behind `Authorization: Bearer|ApiKey ...` or `x-api-key`.

    No credentials -> ANONYMOUS; bad credentials -> UnauthenticatedError (never silently anonymous).
    Services authenticate only on internal ports (`shared.internal`), never here.
    """
    authorization = (headers.get("authorization") or "").strip()
    api_key = (headers.get("x-api-key") or "").strip()
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        credentials = credentials.strip()
        if not credentials:
            raise UnauthenticatedError("Malformed Authorization header")
        if scheme.lower() == "bearer":
            if verifier is None:
                raise UnauthenticatedError("Token verification is not configured")
            return await verifier.verify(credentials)
        if scheme.lower() == "apikey":
            api_key = credentials
        else:
            raise UnauthenticatedError(f"Unsupported authorization scheme {scheme!r}")
    if api_key:
        if api_key_resolver is None:
            raise UnauthenticatedError("API keys are not accepted by this service")
        caller = await api_key_resolver(api_key)
        if caller is None:
            raise UnauthenticatedError("Invalid API key")
        return caller
    return ANONYMOUS
