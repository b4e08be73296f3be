"""GraphQL over HTTP: request parsing, media types, status codes."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from shared.errors import ServiceUnavailableError, UnauthenticatedError

from ..executor import Engine, RequestError
from ..executor.authorize import PolicyRequest
from ..executor.errors import BAD_REQUEST, COST_ESTIMATED_TOO_EXPENSIVE, INTERNAL_SERVER_ERROR
from .access_log import OPERATION_KEY
from .authorization import Authorizer
from .client_address import CLIENT_ADDRESS_HEADER, TrustedProxies, client_address
from .graphiql import GRAPHIQL_HTML
from .metrics import GatewayMetrics
from .persisted import PersistedQueries, PersistedQueryError
from .rate_limit import RateLimiter, client_key

logger = logging.getLogger("tributary.gateway")

RATE_LIMITED = "RATE_LIMITED"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class HttpError(Exception):
    def __init__(self, status: int, message: str, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _respond(payload: dict[str, Any], status: int, media_type: str) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=f"{media_type}; charset=utf-8")


def _params_from_json(raw: bytes) -> Mapping[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HttpError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise HttpError(400, "The request body must be a JSON object.")
    return body


def _params_from_query_string(request: Request) -> Mapping[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if params.get(name):
            try:
                params[name] = orjson.loads(params[name])
            except orjson.JSONDecodeError:
                raise HttpError(400, f"The '{name}' query parameter is not valid JSON.") from None
    return params


def _check(
    params: Mapping[str, Any], persisted: PersistedQueries | None = None
) -> tuple[str, str | None, dict[str, Any] | None]:
    query = params.get("query")
    extensions = params.get("extensions")
    if persisted is not None and isinstance(extensions, dict) and "persistedQuery" in extensions:
        query = persisted.resolve(query if isinstance(query, str) else None, extensions)
    if not isinstance(query, str) or not query.strip():
        raise HttpError(400, "Provide a GraphQL document as the 'query' parameter.")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HttpError(400, "'operationName' must be a string.")
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "'variables' must be a JSON object.")
    return query, operation_name or None, variables


_NO_PROXIES = TrustedProxies(())


async def handle_graphql(
    request: Request,
    engine: Engine,
    *,
    propagate: tuple[str, ...],
    max_body_bytes: int,
    graphiql: bool,
    persisted: PersistedQueries | None = None,
    metrics: GatewayMetrics | None = None,
    proxies: TrustedProxies | None = None,
    authorizer: Authorizer | None = None,
    cost_in_extensions: bool = False,
    rate_limiter: RateLimiter | None = None,
) -> Response:
    # one pass over the raw headers: Starlette's Headers scans the list on every lookup
    request_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
    accept = request_headers.get("accept", "")
    media_type = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON
    if request.method == "GET" and "text/html" in accept and "query" not in request.query_params:
        if graphiql:
            return HTMLResponse(GRAPHIQL_HTML)
        raise_status = 404
        return _respond(_error("GraphiQL is disabled on this gateway.", BAD_REQUEST), raise_status, media_type)
    requester = None
    if authorizer is not None:
        try:
            requester = await authorizer.requester(request_headers)
        except UnauthenticatedError as error:
            return _unauthenticated(error, media_type)
        except ServiceUnavailableError as error:  # identity cannot vouch for the API key: fail closed
            return _respond({"errors": [{"message": error.message, "extensions": error.graphql_extensions()}]},
                            503, media_type)
    # subgraphs see the client's address (rate limits, audit), worked out once, here
    peer = request.client.host if request.client else None
    address = client_address(peer, request_headers.get("x-forwarded-for"), proxies or _NO_PROXIES)
    if rate_limiter is not None:
        verdict = await rate_limiter.hit(client_key(requester, address))
        if not verdict.allowed:
            response = _respond({"errors": [{"message": "Too many requests, try again later",
                                             "extensions": {"code": RATE_LIMITED,
                                                            "retryAfter": round(verdict.retry_after, 3)}}]},
                                429, media_type)
            response.headers["retry-after"] = rate_limiter.retry_after_header(verdict)
            return response
    try:
        if request.method == "POST":
            content_type = request_headers.get("content-type", "")
            if "json" not in content_type:
                raise HttpError(415, "Send GraphQL requests as application/json.")
            body = await _read_body(request, max_body_bytes, request_headers.get("content-length"))
            params = _params_from_json(body)
        else:
            params = _params_from_query_string(request)
        query, operation_name, variables = _check(params, persisted)
        prepared = engine.prepare(query, operation_name)
        request.scope.setdefault("state", {})[OPERATION_KEY] = prepared.operation.name
        kind = prepared.operation.kind
        if request.method == "GET" and kind != "query":
            raise HttpError(405, "Only queries can be sent with GET; use POST for mutations.")
        headers = {name: request_headers[name] for name in propagate if name in request_headers}
        headers[CLIENT_ADDRESS_HEADER] = address
        if "x-request-id" in propagate and "x-request-id" not in headers:
            # one id per client request, so every subgraph's logs can be joined up
            headers["x-request-id"] = os.urandom(16).hex()
        denials: tuple[dict[str, Any], ...] = ()
        if authorizer is not None and requester is not None and prepared.guards:
            prepared, denials = await authorizer.apply(engine, prepared, requester, PolicyRequest(
                operation_name=operation_name, operation_kind=kind, headers=request_headers,
                client_address=headers[CLIENT_ADDRESS_HEADER], variables=variables or {}))
        cost = engine.check_cost(prepared, variables)
        started = time.perf_counter()
        result = await engine.execute(prepared, variables, headers, errors=denials)
        if metrics is not None:
            metrics.observe(kind, time.perf_counter() - started, ok="errors" not in result)
            if cost is not None:
                metrics.observe_cost(kind, cost)
        if cost is not None and cost_in_extensions:
            result.setdefault("extensions", {})["cost"] = {"estimated": cost}
    except PersistedQueryError as error:
        # APQ clients read this exact shape (200, errors[0].message) and resend the document
        return _respond(_error(str(error), error.code), 200, media_type)
    except HttpError as error:
        response = _respond(_error(str(error), error.code), error.status, media_type)
        if error.status == 405:
            response.headers["allow"] = "POST"
        return response
    except RequestError as error:
        # the operation never ran: 400, as Apollo and the GraphQL-over-HTTP spec do
        if metrics is not None and error.code == COST_ESTIMATED_TOO_EXPENSIVE:
            metrics.refused_cost.inc()
        return _respond({"errors": error.errors}, error.status, media_type)
    except Exception:  # a gateway bug: logged with its stack, the client gets a GraphQL error
        logger.exception("gateway request failed")
        return _respond(_error("Internal server error", INTERNAL_SERVER_ERROR), 200, media_type)
    return _respond(result, 200, media_type)


def _unauthenticated(error: UnauthenticatedError, media_type: str) -> Response:
    """401 for a credential that does not verify (expired, forged, for another audience)."""
    response = _respond({"errors": [{"message": error.message, "extensions": error.graphql_extensions()}]},
                        401, media_type)
    response.headers["www-authenticate"] = 'Bearer error="invalid_token"'
    return response


def _error(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def _read_body(request: Request, limit: int, declared: str | None) -> bytes:
    if declared and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"The request body exceeds {limit} bytes.", "PAYLOAD_TOO_LARGE")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"The request body exceeds {limit} bytes.", "PAYLOAD_TOO_LARGE")
        chunks.append(chunk)
    return b"".join(chunks)
