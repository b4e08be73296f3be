"""Escrow for other subgraphs: hold a payer's funds, then capture to recipients or release.

Holds live in the escrow system account; capture is final (an uncaptured remainder returns to
the payer in the same entry). Each call is idempotent under the calling service's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ConflictError, NotFoundError
from subgraphs.wallet.models import EscrowHold, utcnow
from subgraphs.wallet.services.idempotency import run_idempotent, validate_key
from subgraphs.wallet.services.ledger import (
    Posting,
    SystemAccount,
    dialect_of,
    new_id,
    post_entry,
    system_account,
    user_account,
)
from subgraphs.wallet.services.money import get_currency, require_minor_amount

__all__ = ["Capture", "HoldView", "capture_hold", "create_hold", "get_hold", "release_hold"]

MAX_RECIPIENTS = 50


@dataclass(frozen=True, kw_only=True, slots=True)
class Capture:
    recipient_id: str
    amount: int


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldView:
    id: str
    service: str
    payer_id: str
    currency: str
    amount: int
    captured: int
    released: int
    status: str
    reference: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "service": self.service, "payerId": self.payer_id,
            "currency": self.currency, "amountMinor": self.amount, "capturedMinor": self.captured,
            "releasedMinor": self.released, "status": self.status, "reference": self.reference,
        }


def _view(row: EscrowHold) -> HoldView:
    return HoldView(
        id=row.id, service=row.service, payer_id=row.payer_id, currency=row.currency,
        amount=row.amount, captured=row.captured, released=row.released, status=row.status,
        reference=row.reference,
    )


def _user_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise BadUserInputError(f"{field} must be a user ID", extensions={"field": field, "reason": "INVALID_ID"})
    return value


async def create_hold(
    *, session: AsyncSession, service: str, payer_id: str, amount: int, currency: str,
    idempotency_key: str | None, reference: str | None = None,
) -> HoldView:
    validate_key(idempotency_key)
    payer_id = _user_id(payer_id, "payerId")
    cur = get_currency(currency)
    minor = require_minor_amount(amount, field="amountMinor")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 128):
        raise BadUserInputError("reference must be a string of at most 128 characters",
                                extensions={"field": "reference", "reason": "INVALID_REFERENCE"})

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        hold_id = new_id()
        await post_entry(tx, kind="escrow_hold", reference=f"escrow:{hold_id}", postings=[
            Posting(account=user_account(payer_id, cur.code), amount=-minor),
            Posting(account=system_account(SystemAccount.ESCROW_HOLDS, cur.code), amount=minor),
        ])
        tx.add(EscrowHold(id=hold_id, service=service, payer_id=payer_id, currency=cur.code,
                          amount=minor, status="held", reference=reference))
        return {"holdId": hold_id}

    outcome = await run_idempotent(
        session, principal=f"service:{service}", key=idempotency_key, operation="escrow.hold",
        request={"payer": payer_id, "amount": minor, "currency": cur.code, "reference": reference},
        perform=perform,
    )
    return await _reload(session, outcome.result["holdId"])


async def capture_hold(
    *, session: AsyncSession, service: str, hold_id: str, captures: Sequence[Capture],
    idempotency_key: str | None, fee: int = 0,
) -> HoldView:
    """Pay `captures` (and `fee` to the platform) out of the hold; the rest returns to the payer."""
    validate_key(idempotency_key)
    if not captures or len(captures) > MAX_RECIPIENTS:
        raise BadUserInputError(f"capture needs 1 to {MAX_RECIPIENTS} recipients",
                                extensions={"field": "captures", "reason": "INVALID_CAPTURES"})
    for c in captures:
        _user_id(c.recipient_id, "recipientId")
        require_minor_amount(c.amount, field="amountMinor")
    if fee:
        require_minor_amount(fee, field="feeMinor")
    total = sum(c.amount for c in captures) + fee

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        hold = await _locked_open_hold(tx, service, hold_id)
        if total > hold.amount:
            raise BadUserInputError("Capture exceeds the held amount",
                                    extensions={"reason": "EXCEEDS_HOLD", "heldMinor": hold.amount})
        postings = [Posting(account=system_account(SystemAccount.ESCROW_HOLDS, hold.currency), amount=-hold.amount)]
        postings += [Posting(account=user_account(c.recipient_id, hold.currency), amount=c.amount) for c in captures]
        if fee:
            postings.append(Posting(account=system_account(SystemAccount.FEES, hold.currency), amount=fee))
        if hold.amount > total:
            postings.append(Posting(account=user_account(hold.payer_id, hold.currency), amount=hold.amount - total))
        await post_entry(tx, kind="escrow_capture", reference=f"escrow:{hold.id}", postings=postings)
        hold.captured, hold.released = total, hold.amount - total
        hold.status, hold.updated_at = "captured", utcnow()
        return {"holdId": hold.id}

    request = {"hold": hold_id, "fee": fee, "captures": [[c.recipient_id, c.amount] for c in captures]}
    outcome = await run_idempotent(session, principal=f"service:{service}", key=idempotency_key,
                                   operation="escrow.capture", request=request, perform=perform)
    return await _reload(session, outcome.result["holdId"])


async def release_hold(
    *, session: AsyncSession, service: str, hold_id: str, idempotency_key: str | None
) -> HoldView:
    """Return the whole hold to the payer."""
    validate_key(idempotency_key)

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        hold = await _locked_open_hold(tx, service, hold_id)
        await post_entry(tx, kind="escrow_release", reference=f"escrow:{hold.id}", postings=[
            Posting(account=system_account(SystemAccount.ESCROW_HOLDS, hold.currency), amount=-hold.amount),
            Posting(account=user_account(hold.payer_id, hold.currency), amount=hold.amount),
        ])
        hold.released, hold.status, hold.updated_at = hold.amount, "released", utcnow()
        return {"holdId": hold.id}

    outcome = await run_idempotent(session, principal=f"service:{service}", key=idempotency_key,
                                   operation="escrow.release", request={"hold": hold_id}, perform=perform)
    return await _reload(session, outcome.result["holdId"])


async def get_hold(*, session: AsyncSession, service: str, hold_id: str) -> HoldView:
    row = (await session.execute(
        sa.select(EscrowHold).where(EscrowHold.id == hold_id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()
    # Another service's hold is reported as missing, not as forbidden: ids reveal nothing.
    if row is None or row.service != service:
        raise NotFoundError("No such escrow hold", extensions={"holdId": hold_id})
    return _view(row)


async def _reload(session: AsyncSession, hold_id: str) -> HoldView:
    row = (await session.execute(
        sa.select(EscrowHold).where(EscrowHold.id == hold_id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )).scalar_one()
    return _view(row)


async def _locked_open_hold(session: AsyncSession, service: str, hold_id: str) -> EscrowHold:
    query = sa.select(EscrowHold).where(EscrowHold.id == hold_id).execution_options(populate_existing=True)  # type: ignore[arg-type]
    if dialect_of(session) == "postgresql":
        query = query.with_for_update()
    hold = (await session.execute(query)).scalar_one_or_none()
    if hold is None or hold.service != service:
        raise NotFoundError("No such escrow hold", extensions={"holdId": hold_id})
    if hold.status != "held":
        raise ConflictError(f"Escrow hold is already {hold.status}",
                            extensions={"reason": "HOLD_NOT_OPEN", "status": hold.status})
    return hold
