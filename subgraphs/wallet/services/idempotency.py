"""Idempotency keys for money-moving operations.

Same (principal, key) and same request -> the stored first result; same key with a different
request -> CONFLICT. The record is written in the same transaction as the money movement and its
primary key makes a concurrent duplicate fail at commit, after which it replays the winner's result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ConflictError
from subgraphs.wallet.models import IdempotencyRecord
from subgraphs.wallet.services.ledger import write_transaction

__all__ = ["IdempotentResult", "replay", "request_hash", "run_idempotent", "validate_key"]

MAX_KEY_LENGTH = 200
_ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True, slots=True)
class IdempotentResult:
    result: dict[str, Any]
    replayed: bool


def validate_key(key: str | None) -> str:
    if key is None or not isinstance(key, str) or not key.strip():
        raise BadUserInputError(
            "An idempotency key is required for operations that move money",
            extensions={"field": "idempotencyKey", "reason": "MISSING_IDEMPOTENCY_KEY"},
        )
    if len(key) > MAX_KEY_LENGTH:
        raise BadUserInputError(
            f"Idempotency keys are at most {MAX_KEY_LENGTH} characters",
            extensions={"field": "idempotencyKey", "reason": "INVALID_IDEMPOTENCY_KEY"},
        )
    return key


def request_hash(operation: str, request: Mapping[str, Any]) -> str:
    canonical = orjson.dumps({"op": operation, "request": request}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def run_idempotent(
    session: AsyncSession,
    *,
    principal: str,
    key: str | None,
    operation: str,
    request: Mapping[str, Any],
    perform: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
) -> IdempotentResult:
    """Run `perform` once per (principal, key) in one write transaction, and commit it.

    `perform` posts journal entries and returns a JSON-able result, which is stored with the key.
    Any exception rolls the whole transaction back: no entry, no key.
    """
    key = validate_key(key)
    digest = request_hash(operation, request)
    for _ in range(_ATTEMPTS):
        try:
            async with write_transaction(session):
                stored = await _stored(session, principal, key)
                if stored is None:
                    result = await perform(session)
                    session.add(IdempotencyRecord(
                        principal=principal, key=key, operation=operation,
                        request_hash=digest, result=result,
                    ))
                    await session.commit()
                    return IdempotentResult(result=result, replayed=False)
                # Read before the rollback on exit: rollback expires ORM state.
                stored_op, stored_hash = stored.operation, stored.request_hash
                stored_result = dict(stored.result)
        except IntegrityError:
            # Most likely a concurrent duplicate committed the same key first: read it back.
            continue
        return replay(key=key, operation=operation, digest=digest, stored_operation=stored_op,
                      stored_digest=stored_hash, stored_result=stored_result)
    raise ConflictError(
        "Could not complete the request; retry with the same idempotency key",
        extensions={"reason": "IDEMPOTENCY_RACE"},
    )


def replay(*, key: str, operation: str, digest: str, stored_operation: str, stored_digest: str,
           stored_result: dict[str, Any]) -> IdempotentResult:
    """The stored result of a key seen before, or CONFLICT if it was used for another request."""
    if stored_operation != operation or stored_digest != digest:
        raise ConflictError(
            "This idempotency key was already used for a different request",
            extensions={"reason": "IDEMPOTENCY_KEY_REUSED", "idempotencyKey": key},
        )
    return IdempotentResult(result=stored_result, replayed=True)


async def _stored(session: AsyncSession, principal: str, key: str) -> IdempotencyRecord | None:
    result = await session.execute(
        sa.select(IdempotencyRecord)
        .where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()
