"""What WebSocket and SSE subscriptions share: who the caller is, per-user limits, opening a stream."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from shared.auth import ANONYMOUS, TokenVerifier
from shared.errors import ServiceUnavailableError, UnauthenticatedError

from ..executor import RequestError
from ..executor.authorize import PolicyRequest, Requester
from ..executor.errors import BAD_REQUEST
from ..executor.subscribe import (
    SubscriptionError,
    SubscriptionHub,
    UpstreamOptions,
    WebSocketSubgraphClient,
)

if TYPE_CHECKING:
    from ..executor import Engine, PreparedOperation
    from .app import Gateway

__all__ = ["ConnectionLimitError", "Identity", "MutationOverGetError", "Realtime", "UnauthenticatedError", "credentials_from_payload"]

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RATE_LIMITED = "RATE_LIMITED"
UNAUTHENTICATED = "UNAUTHENTICATED"
_ANONYMOUS = Requester(caller=ANONYMOUS)


class MutationOverGetError(RequestError):
    """A mutation sent with GET (GraphQL over HTTP allows only reads there)."""


class ConnectionLimitError(Exception):
    """The caller already holds as many subscription connections as allowed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Identity:
    headers: dict[str, str]  # forwarded: entity-fetch headers, upstream handshake and connection_init
    user_key: str | None  # what per-user limits count by; None for anonymous callers
    expires_at: float | None  # epoch seconds when the verified token expires
    requester: Requester = _ANONYMOUS  # what authorization judges


def credentials_from_payload(payload: Mapping[str, Any]) -> dict[str, str]:
    """Header-like credentials from a connection_init payload, whichever common shape it has.

    Accepts `{"authorization": "Bearer t"}` (any case), `{"headers": {...}}`, and
    `{"token" | "accessToken" | "authToken": "t"}`; a bare token becomes `Bearer <token>`.
    """
    found: dict[str, str] = {}
    nested = payload.get("headers")
    for source in (nested if isinstance(nested, Mapping) else {}, payload):
        for key, value in source.items():
            if isinstance(key, str) and isinstance(value, str):
                found[key.lower()] = value
    token = found.get("token") or found.get("accesstoken") or found.get("authtoken")
    if "authorization" not in found and token:
        found["authorization"] = token
    authorization = found.get("authorization", "").strip()
    if authorization and " " not in authorization:
        found["authorization"] = f"Bearer {authorization}"
    return found


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


class Realtime:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        s = gateway.settings
        self.settings = s
        self.verifier: TokenVerifier | None = gateway.verifier
        self.upstream = WebSocketSubgraphClient(
            UpstreamOptions(
                connect_timeout_seconds=s.subgraph_timeout_seconds,
                ack_timeout_seconds=s.subgraph_timeout_seconds,
                heartbeat_seconds=s.subgraph_heartbeat_seconds,
            )
        )
        self.hub = SubscriptionHub(
            self.upstream, queue_size=s.subscription_queue_size, share=s.subscription_dedupe
        )
        self._connections: dict[str, int] = {}

    async def identify(self, credentials: Mapping[str, str]) -> Identity:
        """Verify the caller's token when a verifier is configured; raises UnauthenticatedError."""
        headers = {name: credentials[name] for name in self.gateway.propagate if credentials.get(name)}
        authorization = headers.get("authorization", "").strip()
        user_key: str | None = None
        expires_at: float | None = None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if authorization and scheme.lower() == "bearer" and not token:
            raise UnauthenticatedError("Malformed authorization: empty bearer token")
        try:
            requester = await self.gateway.authorizer.requester(headers)
        except ServiceUnavailableError:  # identity cannot vouch for an API key: nothing guarded opens
            requester = Requester(caller=ANONYMOUS)
        if token and scheme.lower() == "bearer" and self.verifier is not None:
            user_key = f"user:{requester.caller.user_id}"
            exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
            expires_at = float(exp) if isinstance(exp, (int, float)) else None
        elif authorization:
            # unverified here (the subgraphs verify it): count by the credential itself
            user_key = "credential:" + _fingerprint(authorization)
        elif headers.get("x-api-key"):
            user_key = "credential:" + _fingerprint(headers["x-api-key"])
        return Identity(headers=headers, user_key=user_key, expires_at=expires_at, requester=requester)

    @contextlib.contextmanager
    def hold(self, identity: Identity) -> Iterator[None]:
        """Count one connection for the caller while inside; ConnectionLimitError past the limit."""
        key = identity.user_key
        if key is None:
            yield
            return
        limit = self.settings.max_connections_per_user
        held = self._connections.get(key, 0)
        if held >= limit:
            raise ConnectionLimitError(
                f"Too many subscription connections for this user (limit {limit})."
            )
        self._connections[key] = held + 1
        try:
            yield
        finally:
            remaining = self._connections[key] - 1
            if remaining:
                self._connections[key] = remaining
            else:
                del self._connections[key]

    def seconds_left(self, identity: Identity) -> float | None:
        if identity.expires_at is None:
            return None
        return max(0.0, identity.expires_at - time.time())

    def stream(
        self, params: Mapping[str, Any], identity: Identity, *, allow_mutation: bool = True
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Check and plan the operation now (RequestError), and return its result stream."""
        engine = self.gateway.engine
        if engine is None:
            raise SubscriptionError(
                [{"message": "No supergraph loaded yet.", "extensions": {"code": SERVICE_UNAVAILABLE}}]
            )
        query = params.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RequestError("Provide a GraphQL document as the 'query' parameter.", BAD_REQUEST)
        operation_name = params.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestError("'operationName' must be a string.", BAD_REQUEST)
        variables = params.get("variables")
        if variables is not None and not isinstance(variables, dict):
            raise RequestError("'variables' must be a JSON object.", BAD_REQUEST)
        prepared = engine.prepare(query, operation_name or None)
        if prepared.operation.kind == "mutation" and not allow_mutation:
            raise MutationOverGetError("Mutations cannot be sent with GET; use POST.", BAD_REQUEST)
        engine.coerce_variables(prepared, variables)
        engine.check_cost(prepared, variables)  # enforce mode: too expensive, before any fetch
        if not prepared.guards:
            return self.hub.stream(engine, prepared, variables, headers=identity.headers,
                                   init_payload=identity.headers, ws_urls=self.settings.subscription_urls)
        return self._guarded(engine, prepared, variables, identity)

    async def _guarded(self, engine: Engine, prepared: PreparedOperation, variables: Any,
                       identity: Identity) -> AsyncGenerator[dict[str, Any], None]:
        """The stream of what this caller may read; every result carries the removed fields'
        errors (in reject mode: one result with only the errors)."""
        request = PolicyRequest(operation_name=prepared.operation.name, operation_kind=prepared.operation.kind,
                                headers=identity.headers, client_address=None, variables=variables or {})
        try:
            allowed, denials = await self.gateway.authorizer.apply(engine, prepared, identity.requester, request)
        except RequestError as error:
            yield {"errors": error.errors}
            return
        stream = self.hub.stream(engine, allowed, variables, headers=identity.headers,
                                 init_payload=identity.headers, ws_urls=self.settings.subscription_urls)
        try:
            async for result in stream:
                if denials:
                    result = {**result, "errors": [*denials, *result.get("errors", ())]}
                yield result
        finally:
            await stream.aclose()

    async def close(self) -> None:
        await self.upstream.close()


def error_entry(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}
