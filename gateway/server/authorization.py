"""Who the caller is (verified token or API key, and their scopes) and what of the operation they
may read, decided once per request before planning; the same for HTTP, SSE and WebSocket."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import jwt

from shared.api_keys import RemoteApiKeys
from shared.auth import ANONYMOUS, TokenVerifier
from shared.errors import UnauthenticatedError
from shared.internal import InternalClient

from ..config import GatewaySettings
from ..executor import Engine, PreparedOperation, RequestError
from ..executor.authorize import PolicyRegistry, PolicyRequest, Requester, denied_guards
from ..executor.errors import UNAUTHORIZED_FIELD_OR_TYPE
from .credential import GatewayCredential

__all__ = ["Authorizer", "load_policies"]


def load_policies(modules: list[str]) -> PolicyRegistry:
    """Each module's `register(registry)` adds its policies (the plugin interface)."""
    registry = PolicyRegistry()
    for name in modules:
        module = importlib.import_module(name)
        register = getattr(module, "register", None)
        if not callable(register):
            raise TypeError(f"policy module {name!r} has no register(registry) function")
        register(registry)
    return registry


def _claim_scopes(token: str) -> tuple[frozenset[str], bool]:
    """Scopes of an already verified token from `scope` (space-separated) or `scp` (list or
    string), and whether the token carries either claim at all."""
    claims = jwt.decode(token, options={"verify_signature": False})
    scopes: set[str] = set()
    present = False
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            scopes.update(value.split())
            present = True
        elif isinstance(value, list):
            scopes.update(str(v) for v in value)
            present = present or bool(value)
    return frozenset(scopes), present


class Authorizer:
    def __init__(self, settings: GatewaySettings, verifier: TokenVerifier | None,
                 credential: GatewayCredential | None, *,
                 policies: PolicyRegistry | None = None) -> None:
        self.verifier = verifier
        self.reject = settings.authorization_mode == "reject"
        self.session_scopes = frozenset(settings.session_scopes)
        self.policies = policies if policies is not None else load_policies(settings.policy_modules)
        self.internal: InternalClient | None = None
        self.api_keys: RemoteApiKeys | None = None
        if credential is not None and settings.identity_internal_url:
            self.internal = InternalClient(credential.identity,
                                           {"identity": settings.identity_internal_url})
            self.api_keys = RemoteApiKeys(self.internal, ttl=settings.api_key_cache_seconds)

    async def requester(self, headers: Mapping[str, str]) -> Requester:
        """The verified caller; UnauthenticatedError for a credential that does not verify.

        Credentials the gateway cannot check (no JWKS, no identity to ask about API keys) make
        an anonymous requester: guarded fields stay closed while the subgraphs judge the rest.
        """
        authorization = (headers.get("authorization") or "").strip()
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer":
            if self.verifier is None:
                return Requester(caller=ANONYMOUS)
            if not credential:
                raise UnauthenticatedError("Malformed authorization: empty bearer token")
            caller = await self.verifier.verify(credential)
            scopes, claimed = _claim_scopes(credential)
            # a first-party sign-in (no API key, no scope claim) is the user themself
            if caller.api_key_id is None and not claimed:
                scopes = scopes | self.session_scopes
            return Requester(caller=caller, scopes=scopes)
        key = credential if scheme.lower() == "apikey" else (headers.get("x-api-key") or "").strip()
        if key and self.api_keys is not None:
            found = await self.api_keys(key)
            if found is None:
                raise UnauthenticatedError("Invalid API key")
            return Requester(caller=found, scopes=found.scopes)
        return Requester(caller=ANONYMOUS)

    async def apply(self, engine: Engine, prepared: PreparedOperation, requester: Requester,
                    request: PolicyRequest) -> tuple[PreparedOperation, tuple[dict[str, Any], ...]]:
        """The operation this requester may run and the errors for what was removed; in reject
        mode a RequestError (403) instead when anything would be removed."""
        if not prepared.guards:
            return prepared, ()
        denied = await denied_guards(prepared.guards, requester, self.policies, request)
        restricted, errors = engine.restrict(prepared, denied)
        if errors and self.reject:
            raise RequestError("Unauthorized field or type", UNAUTHORIZED_FIELD_OR_TYPE,
                               errors=list(errors), status=403)
        return restricted, errors

    async def close(self) -> None:
        if self.internal is not None:
            await self.internal.close()

