"""The error extension: Tributary errors keep their code, anything else becomes opaque."""

from __future__ import annotations

import logging

import pytest
import strawberry

from shared.errors import (
    BadUserInputError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    TributaryErrorExtension,
    UnauthenticatedError,
)

ERRORS = {
    "input": BadUserInputError("handle is too long", extensions={"field": "handle"}),
    "auth": UnauthenticatedError("Authentication required"),
    "forbidden": ForbiddenError("nope"),
    "missing": NotFoundError("no such user"),
    "conflict": ConflictError("handle taken"),
    "slow": RateLimitedError("too many attempts", retry_after=12.5),
}


@strawberry.type
class Query:
    @strawberry.field
    def fail(self, kind: str) -> str:
        raise ERRORS[kind]

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("secret database password in message")

    @strawberry.field
    def echo(self, n: int) -> int:
        return n


schema = strawberry.Schema(Query, extensions=[TributaryErrorExtension])


@pytest.mark.parametrize("kind", sorted(ERRORS))
async def test_tributary_errors_keep_code_and_message(kind: str) -> None:
    result = await schema.execute(f'{{ fail(kind: "{kind}") }}')
    assert result.errors is not None
    (error,) = result.errors
    expected = ERRORS[kind]
    assert error.message == expected.message
    assert error.extensions == {**expected.extensions, "code": expected.code}
    assert error.path == ["fail"]


async def test_rate_limited_carries_retry_after() -> None:
    result = await schema.execute('{ fail(kind: "slow") }')
    assert result.errors[0].extensions == {"code": "RATE_LIMITED", "retryAfter": 12.5}


async def test_unexpected_exception_is_opaque_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tributary.errors"):
        result = await schema.execute("{ boom }")
    (error,) = result.errors
    assert error.message == "Internal server error"
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in str(error.formatted)
    logged = [r for r in caplog.records if r.name == "tributary.errors"]
    assert logged and logged[0].exc_info is not None


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ echo(n: ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ echo }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query Q($n: Int!) { echo(n: $n) }", {"n": "not an int"}, "BAD_USER_INPUT"),
    ],
)
async def test_request_errors_get_codes(query: str, variables: dict | None, code: str) -> None:
    result = await schema.execute(query, variable_values=variables)
    assert result.errors
    assert all(e.extensions["code"] == code for e in result.errors)
