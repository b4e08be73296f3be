"""Creator subscriptions: first charge, renewals, cancellation, grace period, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import BadUserInputError, ConflictError, NotFoundError
from subgraphs.wallet.services.subscriptions import (
    GRACE,
    add_month,
    cancel_subscription,
    create_plan,
    list_plans,
    list_subscriptions,
    renew_due,
    subscribe,
)
from tests.subgraphs.wallet.helpers import assert_balanced, count_entries, fund, user_balance

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


async def _setup(db, fan_funds: int = 1_500):  # type: ignore[no-untyped-def]
    await fund(db, "fan", fan_funds)
    async with db.session() as session:
        plan = await create_plan(session=session, creator_id="creator", name="Gold", amount="5.00", currency="USD")
        sub = await subscribe(session=session, subscriber_id="fan", plan_id=plan.id, idempotency_key="s1", now=T0)
    return plan, sub


async def _renew(db, now):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await renew_due(session=session, now=now)


async def _balances(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await user_balance(session, "fan"), await user_balance(session, "creator")


def test_months_clamp_to_the_last_day() -> None:
    assert add_month(T0) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert add_month(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)


async def test_subscribe_and_renew_monthly(db) -> None:
    plan, sub = await _setup(db)
    assert sub.status == "active" and sub.current_period_end == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert await _balances(db) == (1_000, 500)
    async with db.session() as session:
        assert [p.name for p in await list_plans(session=session, creator_id="creator")] == ["Gold"]
        with pytest.raises(ConflictError):
            await subscribe(session=session, subscriber_id="fan", plan_id=plan.id, idempotency_key="s2", now=T0)
        again = await subscribe(session=session, subscriber_id="fan", plan_id=plan.id, idempotency_key="s1", now=T0)
    assert again.id == sub.id
    assert await _renew(db, T0 + timedelta(days=10)) == {"renewed": 0, "past_due": 0, "expired": 0, "canceled": 0, "skipped": 0}
    due = sub.current_period_end
    # Several renewal jobs at once, or one run late, still charge the due period once.
    results = await asyncio.gather(*[_renew(db, due) for _ in range(4)])
    assert sum(r["renewed"] for r in results) >= 1
    assert (await _renew(db, due + timedelta(days=1)))["renewed"] == 0
    assert await _balances(db) == (500, 1_000)
    async with db.session() as session:
        [current] = await list_subscriptions(session=session, subscriber_id="fan")
    assert current.current_period_end == datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert await count_entries(db) == 3
    await assert_balanced(db)


async def test_grace_period_then_expiry(db) -> None:
    _, sub = await _setup(db, fan_funds=700)
    due = sub.current_period_end
    assert (await _renew(db, due))["past_due"] == 1
    async with db.session() as session:
        [lapsed] = await list_subscriptions(session=session, subscriber_id="fan")
    assert lapsed.status == "past_due" and lapsed.grace_until == due + GRACE
    # Topped up inside the grace window: the next run renews the same period.
    await fund(db, "fan", 300)
    assert (await _renew(db, due + timedelta(days=1)))["renewed"] == 1
    async with db.session() as session:
        [renewed] = await list_subscriptions(session=session, subscriber_id="fan")
    assert renewed.status == "active" and renewed.grace_until is None
    assert renewed.current_period_end == add_month(due)
    # Next period: no money, and nobody tops up before the grace period ends.
    assert (await _renew(db, renewed.current_period_end))["past_due"] == 1
    assert (await _renew(db, renewed.current_period_end + GRACE))["expired"] == 1
    async with db.session() as session:
        [expired] = await list_subscriptions(session=session, subscriber_id="fan")
    assert expired.status == "expired"
    assert await _balances(db) == (0, 1_000)
    await assert_balanced(db)


async def test_cancel_runs_to_period_end(db) -> None:
    _, sub = await _setup(db)
    async with db.session() as session:
        canceled = await cancel_subscription(session=session, subscriber_id="fan", subscription_id=sub.id)
        with pytest.raises(NotFoundError):
            await cancel_subscription(session=session, subscriber_id="someone", subscription_id=sub.id)
    assert canceled.status == "active" and canceled.cancel_at_period_end
    assert (await _renew(db, sub.current_period_end))["canceled"] == 1
    assert await _balances(db) == (1_000, 500)


async def test_plan_and_subscribe_input(db) -> None:
    await fund(db, "fan", 100)
    async with db.session() as session:
        for kwargs in ({"amount": "0"}, {"amount": "-1"}, {"currency": "XXX"}, {"name": ""}):
            with pytest.raises(BadUserInputError):
                await create_plan(session=session, creator_id="creator", **{"name": "n", "amount": "1.00", "currency": "USD", **kwargs})
        plan = await create_plan(session=session, creator_id="creator", name="Pricey", amount="5.00", currency="USD")
        with pytest.raises(BadUserInputError) as caught:
            await subscribe(session=session, subscriber_id="fan", plan_id=plan.id, idempotency_key="k")
        assert caught.value.extensions["reason"] == "INSUFFICIENT_FUNDS"
        with pytest.raises(BadUserInputError):
            await subscribe(session=session, subscriber_id="creator", plan_id=plan.id, idempotency_key="k")
        with pytest.raises(NotFoundError):
            await subscribe(session=session, subscriber_id="fan", plan_id="nope", idempotency_key="k2")
        assert await list_subscriptions(session=session, subscriber_id="fan") == []
    assert await count_entries(db) == 1


async def test_concurrent_subscribes_charge_once(db) -> None:
    await fund(db, "fan", 10_000)
    async with db.session() as session:
        plan = await create_plan(session=session, creator_id="creator", name="Gold", amount="5.00", currency="USD")

    async def attempt(key: str) -> str:
        try:
            async with db.session() as session:
                await subscribe(session=session, subscriber_id="fan", plan_id=plan.id, idempotency_key=key, now=T0)
            return "ok"
        except ConflictError:
            return "conflict"

    first = await asyncio.gather(*[attempt(f"a{i}") for i in range(5)])
    assert sorted(first) == ["conflict"] * 4 + ["ok"]
    # Canceled and lapsed, then several resubscribes at once: still one charge.
    async with db.session() as session:
        [sub] = await list_subscriptions(session=session, subscriber_id="fan")
        await cancel_subscription(session=session, subscriber_id="fan", subscription_id=sub.id)
    assert (await _renew(db, sub.current_period_end))["canceled"] == 1
    again = await asyncio.gather(*[attempt(f"b{i}") for i in range(5)])
    assert sorted(again) == ["conflict"] * 4 + ["ok"]
    assert await _balances(db) == (9_000, 1_000)
    await assert_balanced(db)
