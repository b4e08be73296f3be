"""Deposits: a payment intent at a provider, credited when its signed webhook confirms it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.wallet.models import PaymentIntent, WebhookEvent, utcnow
from subgraphs.wallet.services.idempotency import run_idempotent, validate_key
from subgraphs.wallet.services.ledger import (
    Posting,
    SystemAccount,
    dialect_of,
    new_id,
    post_entry,
    system_account,
    user_account,
    write_transaction,
)
from subgraphs.wallet.services.money import get_currency, parse_amount
from subgraphs.wallet.services.providers.base import PaymentProvider, ProviderEvent

__all__ = ["IntentView", "WebhookOutcome", "create_deposit", "get_intent", "handle_webhook"]


@dataclass(frozen=True, kw_only=True, slots=True)
class IntentView:
    id: str
    provider: str
    provider_ref: str
    user_id: str
    currency: str
    amount: int
    status: str
    client_secret: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookOutcome:
    event_id: str
    outcome: str  # applied | failed | duplicate | unknown_intent | mismatch | ignored


def _view(row: PaymentIntent) -> IntentView:
    return IntentView(
        id=row.id, provider=row.provider, provider_ref=row.provider_ref, user_id=row.user_id,
        currency=row.currency, amount=row.amount, status=row.status, client_secret=row.client_secret,
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
    """Open a payment intent; nothing is credited until the provider's webhook confirms it."""
    validate_key(idempotency_key)
    cur = get_currency(currency)
    minor = parse_amount(amount, cur)
    assert idempotency_key is not None

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        intent_id = new_id()
        created = await provider.create_intent(
            intent_id=intent_id, amount=minor, currency=cur.code,
            idempotency_key=f"{user_id}:{idempotency_key}",
        )
        tx.add(PaymentIntent(
            id=intent_id, provider=provider.name, provider_ref=created.provider_ref, user_id=user_id,
            currency=cur.code, amount=minor, status="requires_confirmation",
            client_secret=created.client_secret,
        ))
        return {"intentId": intent_id}

    outcome = await run_idempotent(
        session, principal=f"user:{user_id}", key=idempotency_key, operation="createDeposit",
        request={"amount": minor, "currency": cur.code, "provider": provider.name}, perform=perform,
    )
    intent = await get_intent(session=session, intent_id=outcome.result["intentId"])
    assert intent is not None
    return intent


async def get_intent(*, session: AsyncSession, intent_id: str) -> IntentView | None:
    row = (await session.execute(
        sa.select(PaymentIntent).where(PaymentIntent.id == intent_id)  # type: ignore[arg-type]
    )).scalar_one_or_none()
    return _view(row) if row is not None else None


async def handle_webhook(
    *,
    session: AsyncSession,
    provider: PaymentProvider,
    body: bytes,
    headers: Mapping[str, str],
    now: float,
) -> WebhookOutcome:
    """Verify, record and apply one delivery. Raises WebhookRejectedError (nothing written).

    Every verified event is stored once under (provider, event id); a redelivery is answered
    "duplicate" without touching the ledger, and an event for an intent we do not know is kept
    for investigation rather than dropped.
    """
    event = provider.verify_webhook(body=body, headers=headers, now=now)
    try:
        async with write_transaction(session):
            if await _seen(session, provider.name, event.event_id):
                return WebhookOutcome(event_id=event.event_id, outcome="duplicate")
            outcome = await _apply(session, provider.name, event)
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


async def _apply(session: AsyncSession, provider: str, event: ProviderEvent) -> str:
    if event.kind == "other":
        return "ignored"
    query = sa.select(PaymentIntent).where(
        PaymentIntent.provider == provider, PaymentIntent.provider_ref == event.intent_ref  # type: ignore[arg-type]
    ).execution_options(populate_existing=True)
    if dialect_of(session) == "postgresql":
        query = query.with_for_update()
    intent = (await session.execute(query)).scalar_one_or_none()
    if intent is None:
        return "unknown_intent"
    if intent.status != "requires_confirmation":
        return "ignored"  # already settled by an earlier event
    if event.kind == "failed":
        intent.status, intent.updated_at = "failed", utcnow()
        return "failed"
    if event.amount != intent.amount or event.currency != intent.currency:
        return "mismatch"
    intent.entry_id = await post_entry(
        session,
        kind="deposit",
        reference=f"deposit:{intent.id}",
        postings=[
            Posting(account=system_account(SystemAccount.DEPOSITS_CLEARING, intent.currency), amount=-intent.amount),
            Posting(account=user_account(intent.user_id, intent.currency), amount=intent.amount),
        ],
    )
    intent.status, intent.updated_at = "succeeded", utcnow()
    return "applied"
