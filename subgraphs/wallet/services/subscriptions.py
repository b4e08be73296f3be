"""Creator subscriptions: monthly plans, renewal by a scheduled job, cancellation, grace period.

A renewal charges one period under an idempotency key derived from (subscription, period end),
so two renewal jobs running at once, or a job re-run after a crash, charge a period once.
A renewal that cannot be paid moves the subscription to past_due until `grace_until`; renewals
keep being retried in that window and the subscription expires after it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError, ConflictError, NotFoundError
from subgraphs.wallet.models import Plan, Subscription, utcnow
from subgraphs.wallet.services.idempotency import run_idempotent, validate_key
from subgraphs.wallet.services.ledger import (
    InsufficientFundsError,
    Posting,
    dialect_of,
    new_id,
    post_entry,
    user_account,
    write_transaction,
)
from subgraphs.wallet.services.money import get_currency, parse_amount

__all__ = [
    "GRACE",
    "PlanView",
    "SubscriptionView",
    "add_month",
    "cancel_subscription",
    "create_plan",
    "list_plans",
    "list_subscriptions",
    "renew_due",
    "subscribe",
]

GRACE = timedelta(days=3)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanView:
    id: str
    creator_id: str
    name: str
    currency: str
    amount: int
    active: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class SubscriptionView:
    id: str
    plan_id: str
    subscriber_id: str
    creator_id: str
    currency: str
    amount: int
    status: str
    current_period_end: datetime
    cancel_at_period_end: bool
    grace_until: datetime | None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _plan(row: Plan) -> PlanView:
    return PlanView(id=row.id, creator_id=row.creator_id, name=row.name, currency=row.currency,
                    amount=row.amount, active=row.active)


def _sub(row: Subscription) -> SubscriptionView:
    end = _aware(row.current_period_end)
    assert end is not None
    return SubscriptionView(
        id=row.id, plan_id=row.plan_id, subscriber_id=row.subscriber_id, creator_id=row.creator_id,
        currency=row.currency, amount=row.amount, status=row.status, current_period_end=end,
        cancel_at_period_end=row.cancel_at_period_end, grace_until=_aware(row.grace_until),
    )


def add_month(moment: datetime) -> datetime:
    """The same day next month, clamped to the month's end (Jan 31 -> Feb 28/29)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def create_plan(*, session: AsyncSession, creator_id: str, name: str, amount: str,
                      currency: str) -> PlanView:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BadUserInputError("Plan names are 1 to 100 characters",
                                extensions={"field": "name", "reason": "INVALID_NAME"})
    cur = get_currency(currency)
    row = Plan(id=new_id(), creator_id=creator_id, name=name, currency=cur.code,
               amount=parse_amount(amount, cur))
    session.add(row)
    await session.commit()
    return _plan(row)


async def list_plans(*, session: AsyncSession, creator_id: str) -> list[PlanView]:
    rows = await session.execute(
        sa.select(Plan).where(Plan.creator_id == creator_id, Plan.active)  # type: ignore[arg-type]
        .order_by(Plan.created_at)  # type: ignore[arg-type]
    )
    return [_plan(r) for r in rows.scalars()]


async def list_subscriptions(*, session: AsyncSession, subscriber_id: str) -> list[SubscriptionView]:
    rows = await session.execute(
        sa.select(Subscription).where(Subscription.subscriber_id == subscriber_id)  # type: ignore[arg-type]
        .order_by(Subscription.created_at)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    return [_sub(r) for r in rows.scalars()]


async def _get_sub(session: AsyncSession, subscription_id: str, *, lock: bool = False) -> Subscription | None:
    query = (
        sa.select(Subscription).where(Subscription.id == subscription_id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    if lock and dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def subscribe(*, session: AsyncSession, subscriber_id: str, plan_id: str,
                    idempotency_key: str | None, now: datetime | None = None) -> SubscriptionView:
    """Pay the first month and start (or restart) the subscription."""
    validate_key(idempotency_key)
    moment = now or utcnow()

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        plan = (await tx.execute(sa.select(Plan).where(Plan.id == plan_id))).scalar_one_or_none()  # type: ignore[arg-type]
        if plan is None or not plan.active:
            raise NotFoundError("No such plan", extensions={"planId": plan_id})
        if plan.creator_id == subscriber_id:
            raise BadUserInputError("You cannot subscribe to your own plan",
                                    extensions={"reason": "SELF_SUBSCRIPTION"})
        query = (
            sa.select(Subscription).where(Subscription.plan_id == plan_id,  # type: ignore[arg-type]
                                          Subscription.subscriber_id == subscriber_id)
            .execution_options(populate_existing=True)
        )
        if dialect_of(tx) == "postgresql":
            query = query.with_for_update()  # two resubscribes at once: one pays, one conflicts
        existing = (await tx.execute(query)).scalar_one_or_none()
        if existing is not None and existing.status in ("active", "past_due"):
            raise ConflictError("Already subscribed", extensions={"reason": "ALREADY_SUBSCRIBED"})
        await _charge(tx, payer=subscriber_id, payee=plan.creator_id, currency=plan.currency,
                      amount=plan.amount, reference=f"plan:{plan.id}")
        row = existing or Subscription(id=new_id(), plan_id=plan.id, subscriber_id=subscriber_id,
                                       creator_id=plan.creator_id, currency=plan.currency,
                                       amount=plan.amount, status="active",
                                       current_period_end=moment)
        row.status, row.amount, row.cancel_at_period_end, row.grace_until = "active", plan.amount, False, None
        row.current_period_end, row.updated_at = add_month(moment), moment
        tx.add(row)
        return {"subscriptionId": row.id}

    outcome = await run_idempotent(
        session, principal=f"user:{subscriber_id}", key=idempotency_key, operation="subscribe",
        request={"plan": plan_id}, perform=perform,
    )
    row = await _get_sub(session, outcome.result["subscriptionId"])
    assert row is not None
    return _sub(row)


async def cancel_subscription(*, session: AsyncSession, subscriber_id: str,
                              subscription_id: str) -> SubscriptionView:
    """Stop renewing; the paid period runs to its end."""
    row = await _get_sub(session, subscription_id)
    if row is None or row.subscriber_id != subscriber_id:
        raise NotFoundError("No such subscription")
    if row.status in ("active", "past_due"):
        row.cancel_at_period_end, row.updated_at = True, utcnow()
        if row.status == "past_due":
            row.status = "canceled"  # nothing was paid for the period in grace
        await session.commit()
    return _sub(row)


async def _charge(session: AsyncSession, *, payer: str, payee: str, currency: str, amount: int,
                  reference: str) -> str:
    return await post_entry(session, kind="subscription", reference=reference, postings=[
        Posting(account=user_account(payer, currency), amount=-amount),
        Posting(account=user_account(payee, currency), amount=amount),
    ])


async def renew_due(*, session: AsyncSession, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Renew, lapse or expire every subscription whose period has ended. Safe to run twice."""
    moment = now or utcnow()
    due = (await session.execute(
        sa.select(Subscription.id)
        .where(Subscription.status.in_(["active", "past_due"]),  # type: ignore[attr-defined]
               Subscription.current_period_end <= moment)  # type: ignore[arg-type, operator]
        .order_by(Subscription.current_period_end).limit(limit)  # type: ignore[arg-type]
    )).scalars().all()
    await session.rollback()
    counts = {"renewed": 0, "past_due": 0, "expired": 0, "canceled": 0, "skipped": 0}
    for subscription_id in due:
        counts[await _renew_one(session, subscription_id, moment)] += 1
    return counts


async def _renew_one(session: AsyncSession, subscription_id: str, moment: datetime) -> str:
    row = await _get_sub(session, subscription_id)
    assert row is not None
    period_end = _aware(row.current_period_end)
    cancel, grace = row.cancel_at_period_end, _aware(row.grace_until)
    assert period_end is not None
    await session.rollback()  # read above; the charge below opens its own write transaction
    if period_end > moment:
        return "skipped"  # another run renewed it since the due list was read
    if cancel:
        return await _set_status(session, subscription_id, "canceled", period_end=period_end)

    async def perform(tx: AsyncSession) -> dict[str, Any]:
        current = await _get_sub(tx, subscription_id, lock=True)
        assert current is not None
        # Re-checked under the row lock: only the period that was due is charged, once.
        if _aware(current.current_period_end) != period_end or current.status not in ("active", "past_due"):
            return {"outcome": "skipped"}
        await _charge(tx, payer=current.subscriber_id, payee=current.creator_id,
                      currency=current.currency, amount=current.amount, reference=f"subscription:{current.id}")
        current.current_period_end = add_month(period_end)
        current.status, current.grace_until, current.updated_at = "active", None, moment
        return {"outcome": "renewed"}

    try:
        outcome = await run_idempotent(
            session, principal="system:renewals", key=f"{subscription_id}:{period_end.isoformat()}",
            operation="renew", request={"subscription": subscription_id}, perform=perform,
        )
    except InsufficientFundsError:
        grace_until = grace or period_end + GRACE
        if moment >= grace_until:
            return await _set_status(session, subscription_id, "expired", period_end=period_end)
        return await _set_status(session, subscription_id, "past_due", period_end=period_end,
                                 grace_until=grace_until)
    return str(outcome.result["outcome"])


async def _set_status(session: AsyncSession, subscription_id: str, status: str, *,
                      period_end: datetime, grace_until: datetime | None = None) -> str:
    """Move to `status` unless another run has changed the period meanwhile (then: skipped)."""
    async with write_transaction(session):
        row = await _get_sub(session, subscription_id, lock=True)
        assert row is not None
        if _aware(row.current_period_end) != period_end or row.status not in ("active", "past_due"):
            return "skipped"
        row.status, row.updated_at = status, utcnow()
        if grace_until is not None:
            row.grace_until = grace_until
        await session.commit()
    return status
