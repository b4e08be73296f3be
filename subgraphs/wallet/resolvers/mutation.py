"""Mutation root fields: every one that moves money takes an idempotency key."""

from __future__ import annotations

import logging
import time
from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import ForbiddenError, NotFoundError
from shared.references import POST, USER
from subgraphs.wallet import _context as ctx
from subgraphs.wallet.resolvers.dead_letters import DeadLetterMutation
from subgraphs.wallet.services import cashouts, deposits, leaderboards, limits, subscriptions, tips
from subgraphs.wallet.types.plan import CreatorSubscription, SubscriptionPlan
from subgraphs.wallet.types.tip import Tip
from subgraphs.wallet.types.wallet import Cashout, Deposit

__all__ = ["Mutation", "tip_channel"]

log = logging.getLogger("tributary.wallet")


def tip_channel(user_id: str) -> str:
    return f"tips:received:{user_id}"


@strawberry.type
class Mutation(DeadLetterMutation):  # type: ignore[misc,valid-type]
    @strawberry.mutation(description="Tip a user (optionally for a post). Amount is a decimal string.")
    async def send_tip(
        self, info: Info[Any, Any], to: strawberry.ID, amount: str, idempotency_key: str,
        currency: str = "USD", post_id: strawberry.ID | None = None, message: str | None = None,
    ) -> Tip:
        sender = ctx.require_user(info)
        runtime, kv = ctx.runtime(info), ctx.kv(info)
        settings = runtime.settings
        database = ctx.database(info)
        await limits.enforce_velocity(
            kv, database=database, action="tip", user_id=sender, ip=ctx.client_ip(info),
            user_limit=settings.tip_limit_per_minute, ip_limit=settings.tip_ip_limit_per_minute,
            window_seconds=60,
        )
        # Before anything is written: a tip to an id nobody has would move money to a ghost.
        references = ctx.references(info)
        await references.require(USER, [str(to)], field_name="to")
        if post_id is not None:
            await references.require(POST, [str(post_id)], field_name="postId")
        check = await references.client.call("social", "/internal/blocks/check", {"userId": sender, "otherId": str(to)})
        if check.get("blocked") is not False:  # fail closed: only a plain "not blocked" lets money move
            raise ForbiddenError("You cannot tip this user", extensions={"field": "to", "reason": "NOT_ALLOWED"})
        sent = await tips.send_tip(
            database=database, keyring=runtime.keyring, sender_id=sender, recipient_id=str(to),
            amount=amount, currency=currency, idempotency_key=idempotency_key,
            post_id=str(post_id) if post_id is not None else None, message=message,
            max_message_length=settings.max_message_length,
            suspicious_minor=settings.suspicious_tip_minor,
        )
        if not sent.replayed:
            await _after_tip(kv, sent.tip)
        return Tip.from_view(sent.tip)

    @strawberry.mutation(description="Start a deposit; the provider's webhook credits it.")
    async def create_deposit(
        self, info: Info[Any, Any], amount: str, currency: str, idempotency_key: str
    ) -> Deposit:
        user_id = ctx.require_user(info)
        runtime = ctx.runtime(info)
        async with ctx.session(info) as session:
            view = await deposits.create_deposit(
                session=session, provider=runtime.deposit_provider, user_id=user_id, amount=amount,
                currency=currency, idempotency_key=idempotency_key,
            )
        return Deposit.from_view(view)

    @strawberry.mutation(description="Dev/test only: the sandbox provider confirms a deposit.")
    async def confirm_sandbox_deposit(self, info: Info[Any, Any], id: strawberry.ID) -> Deposit:
        user_id = ctx.require_user(info)
        runtime = ctx.runtime(info)
        if runtime.settings.environment == "prod" or runtime.sandbox is None:
            raise ForbiddenError("The sandbox provider is not available here")
        async with ctx.session(info) as session:
            view = await deposits.get_intent(session=session, intent_id=str(id))
            if view is None or view.user_id != user_id or view.provider != "sandbox":
                raise NotFoundError("No such sandbox deposit")
            if view.provider_ref is None:
                view = await deposits.complete_intent(session=session, provider=runtime.sandbox,
                                                      intent_id=view.id)
                assert view.provider_ref is not None
            # Exactly what the sandbox would POST to /webhooks/sandbox, signature included.
            body, headers = runtime.sandbox.build_webhook(
                intent_ref=view.provider_ref, amount=view.amount, currency=view.currency,
                event_id=f"evt_sbx_confirm_{view.id}",
            )
            await deposits.handle_webhook(session=session, provider=runtime.sandbox, body=body,
                                          headers=headers, now=time.time(),
                                          settlement_hold=runtime.settlement_hold)
            view = await deposits.get_intent(session=session, intent_id=str(id))
        assert view is not None
        return Deposit.from_view(view)

    @strawberry.federation.mutation(
        requires_scopes=[["write"], ["wallet:write"]],
        description="Withdraw funds; they stay held until the payout settles.")
    async def request_cashout(
        self, info: Info[Any, Any], amount: str, currency: str, idempotency_key: str
    ) -> Cashout:
        user_id = ctx.require_user(info)
        runtime, kv = ctx.runtime(info), ctx.kv(info)
        settings = runtime.settings
        await limits.enforce_velocity(
            kv, database=ctx.database(info), action="cashout", user_id=user_id,
            ip=ctx.client_ip(info), user_limit=settings.cashout_limit_per_day,
            ip_limit=settings.cashout_limit_per_day * 4, window_seconds=86400,
        )
        async with ctx.session(info) as session:
            view, replayed = await cashouts.request_cashout(
                session=session, user_id=user_id, amount=amount, currency=currency,
                idempotency_key=idempotency_key,
            )
        if not replayed:
            await runtime.enqueue_cashout(view.id)
        return Cashout.from_view(view)


    @strawberry.mutation(description="Create a monthly plan others can subscribe to.")
    async def create_plan(self, info: Info[Any, Any], name: str, price: str, currency: str = "USD") -> SubscriptionPlan:
        creator = ctx.require_user(info)
        async with ctx.session(info) as session:
            plan = await subscriptions.create_plan(session=session, creator_id=creator, name=name,
                                                   amount=price, currency=currency)
        return SubscriptionPlan.from_view(plan)

    @strawberry.mutation(description="Pay the first month of a plan; renewals follow monthly.")
    async def subscribe_to_plan(
        self, info: Info[Any, Any], plan_id: strawberry.ID, idempotency_key: str
    ) -> CreatorSubscription:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            view = await subscriptions.subscribe(session=session, subscriber_id=user_id,
                                                 plan_id=str(plan_id), idempotency_key=idempotency_key)
        return CreatorSubscription.from_view(view)

    @strawberry.mutation(description="Stop renewing; the paid month runs to its end.")
    async def cancel_subscription(self, info: Info[Any, Any], id: strawberry.ID) -> CreatorSubscription:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            view = await subscriptions.cancel_subscription(session=session, subscriber_id=user_id,
                                                           subscription_id=str(id))
        return CreatorSubscription.from_view(view)


async def _after_tip(kv: Any, tip: tips.TipView) -> None:
    # After commit and best effort: the boards rebuild from the tips table, and the
    # subscription is a notification, not a record.
    try:
        await leaderboards.record_tip(kv, sender_id=tip.sender_id, recipient_id=tip.recipient_id,
                                      currency=tip.currency, amount=tip.amount, at=tip.created_at,
                                      announce=(tip_channel(tip.recipient_id), tip.id))
    except Exception:
        log.warning("leaderboard/subscription update failed after tip", exc_info=True)
