"""What an API key may do in a service: its scopes, checked once per operation by the kit.

A key acts for its user only as far as its scopes reach: `read` or `<service>:read` to query a
service, `write` or `<service>:write` to run its mutations (a write scope includes reading).
Access tokens from a sign-in are the user themself and are not limited by scopes.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from shared.auth import Caller

__all__ = ["ApiKeyScopes", "missing_scope"]


def missing_scope(caller: Caller, *, service: str, write: bool) -> str | None:
    """The scope `caller` lacks for this operation, or None when it may go ahead."""
    if caller.api_key_id is None:
        return None
    allowed = {"write", f"{service}:write"}
    if not write:
        allowed |= {"read", f"{service}:read"}
    if caller.scopes & allowed:
        return None
    return f"{service}:write" if write else f"{service}:read"


class ApiKeyScopes(SchemaExtension):
    """Refuses an operation an API key's scopes do not cover, before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        caller = getattr(context, "caller", None)
        settings = getattr(context, "settings", None)
        operation = self.execution_context.operation_type
        if isinstance(caller, Caller) and settings is not None:
            write = operation is OperationType.MUTATION
            scope = missing_scope(caller, service=settings.service_name, write=write)
            if scope is not None:
                self.execution_context.result = ExecutionResult(data=None, errors=[GraphQLError(
                    f"This API key lacks the {scope} scope",
                    extensions={"code": "FORBIDDEN", "reason": "INSUFFICIENT_SCOPE",
                                "scope": scope})])
        yield
