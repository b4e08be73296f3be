"""Deposits: an intent recorded first, then the provider asked, then its signed webhooks applied.

No provider call runs inside a database transaction: `create_deposit` commits the intent as
`creating` (with the idempotency key the provider will see), closes the session's transaction,
calls the provider, and records its answer in a second transaction. A process that dies in
between leaves a `creating` intent, which a retry with the same key or the periodic sweep
(`recover_intents`) completes by asking the provider again with the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ServiceUnavailableError
from subgraphs.wallet.models import PaymentIntent, WebhookEvent, utcnow
from subgraphs.wallet.services import settlement
from subgraphs.wallet.services.idempotency import run_idempotent, validate_key
from subgraphs.wallet.services.ledger import dialect_of, new_id, write_transaction
from subgraphs.wallet.services.money import get_currency, parse_amount
from subgraphs.wallet.services.providers.base import (
    PaymentProvider,
    ProviderEvent,
    ProviderIntent,
    ProviderRefusedError,
    ProviderUnavailableError,
)

__all__ = [
    "IntentView",
    "WebhookOutcome",
    "complete_intent",
    "create_deposit",
    "get_intent",
    "handle_webhook",
    "recover_intents",
    "settle_due",
]

# A `creating` intent younger than this is probably still being created by its request.
RECOVERY_AGE = timedelta(seconds=60)


@dataclass(frozen=True, kw_only=True, slots=True)
class IntentView:
    id: str
    provider: str
    provider_ref: str | None
    user_id: str
    currency: str
    amount: int
    status: str
    client_secret: str | None
    held: int = 0
    settles_at: datetime | None = None
    settled_at: datetime | None = None
    refunded: int = 0
    disputed: int = 0
    dispute_status: str | None = None
    failure_reason: str | None = None
    provider_key: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookOutcome:
    event_id: str
    outcome: str  # applied | failed | duplicate | unknown_intent | mismatch | ignored


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _view(row: PaymentIntent) -> IntentView:
    return IntentView(
        id=row.id, provider=row.provider, provider_ref=row.provider_ref, user_id=row.user_id,
        currency=row.currency, amount=row.amount, status=row.status, client_secret=row.client_secret,
        held=row.held, settles_at=_aware(row.settles_at), settled_at=_aware(row.settled_at),
        refunded=row.refunded, disputed=row.disputed, dispute_status=row.dispute_status,
        failure_reason=row.failure_reason, provider_key=row.provider_key,
    )


async def create_deposit(
    *,
    session: AsyncSession,
    provider: PaymentProvider,
    user_id: str,
    amount: str,
    currency: str,
    idempotency_key: str | None,
) -> IntentView:
    """Open a payment intent; nothing is credited until the provider's webhook confirms it.

    Raises ServiceUnavailableError (`PROVIDER_UNAVAILABLE`) if the provider does not answer:
    the intent stays `creating` and the same idempotency key completes it later.
    """
    validate_key(idempotency_key)
    cur = get_currency(currency)
    minor = parse_amount(amount, cur)
    assert idempotency_key is not None

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        intent_id = new_id()
        tx.add(PaymentIntent(
            id=intent_id, provider=provider.name, provider_key=f"{user_id}:{idempotency_key}",
            user_id=user_id, currency=cur.code, amount=minor, status="creating",
        ))
        return {"intentId": intent_id}

    outcome = await run_idempotent(
        session, principal=f"user:{user_id}", key=idempotency_key, operation="createDeposit",
        request={"amount": minor, "currency": cur.code, "provider": provider.name}, perform=perform,
    )
    intent = await complete_intent(session=session, provider=provider, intent_id=outcome.result["intentId"])
    if intent.status == "failed":
        raise BadUserInputError(
            "The payment provider refused this deposit",
            extensions={"reason": "PROVIDER_REFUSED", "depositId": intent.id},
        )
    return intent


async def complete_intent(*, session: AsyncSession, provider: PaymentProvider, intent_id: str) -> IntentView:
    """Ask the provider for a `creating` intent (outside any transaction) and record the answer."""
    intent = await get_intent(session=session, intent_id=intent_id)
    assert intent is not None, "an idempotency record points at a missing intent"
    await session.rollback()  # close the read transaction: nothing is open across the call
    if intent.status != "creating":
        return intent
    assert intent.provider == provider.name, "the intent belongs to another provider"
    try:
        created = await provider.create_intent(
            intent_id=intent.id, amount=intent.amount, currency=intent.currency,
            idempotency_key=intent.provider_key or f"{intent.user_id}:{intent.id}",
        )
    except ProviderRefusedError as error:
        return await _record(session, intent.id, created=None, reason=str(error))
    except ProviderUnavailableError:
        raise ServiceUnavailableError(
            "The payment provider did not answer; retry with the same idempotency key",
            extensions={"reason": "PROVIDER_UNAVAILABLE", "depositId": intent.id},
        ) from None
    return await _record(session, intent.id, created=created, reason=None)


async def _record(session: AsyncSession, intent_id: str, *, created: ProviderIntent | None,
                  reason: str | None) -> IntentView:
    """creating -> requires_confirmation (or failed), once; a webhook may have moved it already."""
    async with write_transaction(session):
        row = await _locked(session, PaymentIntent.id == intent_id)  # type: ignore[arg-type]
        assert row is not None
        if row.status == "creating":
            if created is not None:
                row.provider_ref, row.client_secret = created.provider_ref, created.client_secret
                row.status = "requires_confirmation"
            else:
                row.status, row.failure_reason = "failed", (reason or "refused")[:256]
            row.updated_at = utcnow()
        view = _view(row)
        await session.commit()
    return view


async def recover_intents(
    *, session: AsyncSession, providers: Mapping[str, PaymentProvider], now: datetime | None = None,
    limit: int = 100,
) -> int:
    """Complete `creating` intents a dead process left behind; returns how many were answered."""
    cutoff = (now or utcnow()) - RECOVERY_AGE
    ids = list((await session.execute(
        sa.select(PaymentIntent.id, PaymentIntent.provider)
        .where(PaymentIntent.status == "creating", PaymentIntent.created_at <= cutoff)  # type: ignore[arg-type]
        .order_by(PaymentIntent.created_at).limit(limit)  # type: ignore[arg-type]
    )).all())
    await session.rollback()
    done = 0
    for intent_id, provider_name in ids:
        provider = providers.get(provider_name)
        if provider is None:
            continue
        try:
            await complete_intent(session=session, provider=provider, intent_id=intent_id)
        except ServiceUnavailableError:
            continue  # still no answer: the next sweep asks again
        done += 1
    return done


async def settle_due(*, session: AsyncSession, now: datetime | None = None, limit: int = 100) -> int:
    """Make every deposit whose settlement hold has ended available; returns how many settled."""
    moment = now or utcnow()
    due = list((await session.execute(
        sa.select(PaymentIntent.id).where(
            PaymentIntent.status.in_(["succeeded", "refunded"]),  # type: ignore[attr-defined]
            PaymentIntent.settled_at.is_(None),  # type: ignore[union-attr]
            PaymentIntent.settles_at <= moment,  # type: ignore[operator]
        ).order_by(PaymentIntent.settles_at).limit(limit)  # type: ignore[arg-type]
    )).scalars())
    await session.rollback()
    settled = 0
    for intent_id in due:
        async with write_transaction(session):
            row = await _locked(session, PaymentIntent.id == intent_id)  # type: ignore[arg-type]
            # Re-checked under the lock: a concurrent sweep may have settled it.
            if row is not None and row.settled_at is None:
                await settlement.settle(session, row)
                settled += 1
            await session.commit()
    return settled


async def _locked(session: AsyncSession, condition: Any) -> PaymentIntent | None:
    query = sa.select(PaymentIntent).where(condition).execution_options(populate_existing=True)
    if dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_intent(*, session: AsyncSession, intent_id: str) -> IntentView | None:
    row = (await session.execute(
        sa.select(PaymentIntent).where(PaymentIntent.id == intent_id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()
    return _view(row) if row is not None else None


async def handle_webhook(
    *,
    session: AsyncSession,
    provider: PaymentProvider,
    body: bytes,
    headers: Mapping[str, str],
    now: float,
    settlement_hold: timedelta,
) -> WebhookOutcome:
    """Verify, record and apply one delivery. Raises WebhookRejectedError (nothing written).

    Every verified event is stored once under (provider, event id), in the transaction that
    applies it; a redelivery is answered "duplicate" without touching the ledger, and an event
    for an intent we do not know is kept for investigation rather than dropped. A confirmed
    deposit settles `settlement_hold` after `now`.
    """
    event = provider.verify_webhook(body=body, headers=headers, now=now)
    try:
        async with write_transaction(session):
            if await _seen(session, provider.name, event.event_id):
                return WebhookOutcome(event_id=event.event_id, outcome="duplicate")
            outcome = await _apply(session, provider.name, event, now=datetime.fromtimestamp(now, UTC),
                                   hold=settlement_hold)
            session.add(WebhookEvent(
                provider=provider.name, event_id=event.event_id, event_type=event.event_type,
                intent_ref=event.intent_ref, outcome=outcome, payload=body.decode("utf-8", "replace"),
            ))
            await session.commit()
            return WebhookOutcome(event_id=event.event_id, outcome=outcome)
    except IntegrityError:
        # A concurrent delivery of the same event committed first.
        return WebhookOutcome(event_id=event.event_id, outcome="duplicate")


async def _seen(session: AsyncSession, provider: str, event_id: str) -> bool:
    found = await session.execute(
        sa.select(WebhookEvent.id).where(
            WebhookEvent.provider == provider, WebhookEvent.event_id == event_id  # type: ignore[arg-type]
        )
    )
    return found.first() is not None


async def _find(session: AsyncSession, provider: str, event: ProviderEvent) -> PaymentIntent | None:
    intent = await _locked(session, sa.and_(
        PaymentIntent.provider == provider, PaymentIntent.provider_ref == event.intent_ref  # type: ignore[arg-type]
    ))
    if intent is None and event.wallet_intent_id and event.intent_ref:
        # The provider created it but we died before recording its answer: the intent's
        # metadata names ours, so the confirmation is not lost.
        intent = await _locked(session, sa.and_(
            PaymentIntent.id == event.wallet_intent_id, PaymentIntent.provider == provider,  # type: ignore[arg-type]
            PaymentIntent.status == "creating",  # type: ignore[arg-type]
        ))
        if intent is not None:
            intent.provider_ref, intent.status = event.intent_ref, "requires_confirmation"
    return intent


async def _apply(session: AsyncSession, provider: str, event: ProviderEvent, *, now: datetime,
                 hold: timedelta) -> str:
    if event.kind == "other" or event.intent_ref is None:
        return "ignored"
    intent = await _find(session, provider, event)
    if intent is None:
        return "unknown_intent"
    if event.kind in ("succeeded", "failed"):
        if intent.status != "requires_confirmation":
            return "ignored"  # already settled by an earlier event
        if event.kind == "failed":
            intent.status, intent.updated_at = "failed", utcnow()
            return "failed"
        if event.amount != intent.amount or event.currency != intent.currency:
            return "mismatch"
        return await settlement.credit(session, intent, settles_at=now + hold,
                                       immediate=hold <= timedelta(0))
    if event.currency != intent.currency or event.amount is None or event.amount < 0:
        return "mismatch"
    if intent.status not in ("succeeded", "refunded"):
        return "ignored"  # nothing was credited, so there is nothing to take back
    if event.kind == "refunded":
        return await settlement.refund(session, intent, refunded_total=event.amount)
    if event.kind == "dispute_opened":
        return await settlement.open_dispute(session, intent, dispute_ref=event.dispute_ref, amount=event.amount)
    return await settlement.close_dispute(session, intent, dispute_ref=event.dispute_ref,
                                          outcome=event.dispute_status)
