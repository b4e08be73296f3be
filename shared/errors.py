"""Error classes of the service kit and their mapping to GraphQL errors (`extensions.code`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

__all__ = [
    "BAD_REQUEST",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "INTERNAL_MESSAGE",
    "PAYLOAD_TOO_LARGE",
    "BadUserInputError",
    "ConflictError",
    "ForbiddenError",
    "InternalError",
    "NotFoundError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "TributaryError",
    "TributaryErrorExtension",
    "UnauthenticatedError",
    "error_class",
    "format_error",
]

log = logging.getLogger("tributary.errors")

# Codes that do not belong to a TributaryError subclass (they come from graphql-core or HTTP).
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
INTERNAL_MESSAGE = "Internal server error"


class TributaryError(Exception):
    """An expected, client-facing failure; its message is safe to show to the caller."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, extensions: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The code is part of the extensions: graphql-core copies an original error's
        # `extensions` onto the GraphQL error it becomes, so the code reaches the client even
        # where no extension formats the result (an error raised as a subscription starts).
        self.extensions: dict[str, Any] = {**(extensions or {}), "code": self.code}

    def graphql_extensions(self) -> dict[str, Any]:
        return dict(self.extensions)


class BadUserInputError(TributaryError):
    code = "BAD_USER_INPUT"


class UnauthenticatedError(TributaryError):
    code = "UNAUTHENTICATED"


class ForbiddenError(TributaryError):
    code = "FORBIDDEN"


class NotFoundError(TributaryError):
    code = "NOT_FOUND"


class ConflictError(TributaryError):
    code = "CONFLICT"


class RateLimitedError(TributaryError):
    code = "RATE_LIMITED"

    def __init__(
        self, message: str, *, retry_after: float, extensions: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, extensions={**(extensions or {}), "retryAfter": retry_after})
        self.retry_after = retry_after


class ServiceUnavailableError(TributaryError):
    """A service this one depends on cannot answer now; the operation wrote nothing."""

    code = "SERVICE_UNAVAILABLE"


class InternalError(TributaryError):
    code = "INTERNAL_SERVER_ERROR"


def error_class(code: str) -> type[TributaryError]:
    """The TributaryError subclass that carries `code` (InternalError when none does)."""
    for cls in (BadUserInputError, UnauthenticatedError, ForbiddenError, NotFoundError,
                ConflictError, ServiceUnavailableError):
        if cls.code == code:
            return cls
    return InternalError


def _original(error: GraphQLError) -> BaseException | None:
    # graphql-core may wrap a located GraphQLError around another one; unwrap to the root cause.
    original: BaseException | None = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def format_error(error: GraphQLError, *, pre_execution: bool, has_data: bool) -> GraphQLError:
    """Return `error` rewritten so that it carries `extensions.code` and leaks nothing internal.

    `pre_execution` is true for errors raised while parsing/validating the document;
    `has_data` tells a variable-coercion failure (no data at all) from a field error.
    """
    original = _original(error)
    if isinstance(original, TributaryError):
        if isinstance(original, InternalError):
            log.error("internal error: %s", original.message, exc_info=original)
        return _with(error, original.message, original.graphql_extensions())
    if isinstance(original, GraphQLError):
        # graphql-core raises GraphQLErrors for client mistakes (e.g. variable coercion);
        # their messages are written for clients.
        if (original.extensions or {}).get("code"):
            return _with(error, original.message, dict(original.extensions or {}))
        original = None
    if original is not None:
        # Unexpected exception: log everything, show nothing.
        log.error("unhandled exception in resolver: %r", original, exc_info=original)
        return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})
    if (error.extensions or {}).get("code"):
        return error
    if isinstance(error, GraphQLSyntaxError) or isinstance(error.original_error,
                                                           GraphQLSyntaxError):
        return _with(error, error.message, {"code": GRAPHQL_PARSE_FAILED})
    if pre_execution:
        return _with(error, error.message, {"code": GRAPHQL_VALIDATION_FAILED})
    if not has_data:
        # Variable coercion ("Variable '$x' got invalid value ...") fails before any field runs.
        return _with(error, error.message, {"code": "BAD_USER_INPUT"})
    return _with(error, error.message, {"code": "INTERNAL_SERVER_ERROR"})


_SUGGESTION = re.compile(r" Did you mean .*\?$")


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    return error if message == error.message else _with(error, message, dict(error.extensions or {}))


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class TributaryErrorExtension(SchemaExtension):
    """Maps every error of an operation to a coded GraphQL error (installed by the app factory)."""

    def __init__(self) -> None:
        self._executed = False

    def on_execute(self) -> Iterator[None]:
        self._executed = True
        yield

    def on_operation(self) -> Iterator[None]:
        self._executed = False
        yield
        result = self.execution_context.result
        if isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)) and result.errors:
            result.errors = [
                format_error(
                    e, pre_execution=not self._executed, has_data=result.data is not None
                )
                for e in result.errors
            ]
            settings = getattr(self.execution_context.context, "settings", None)
            if settings is not None and not settings.introspection:
                # With introspection off, "Did you mean …" would hand out the schema.
                result.errors = [_without_suggestions(e) for e in result.errors]
