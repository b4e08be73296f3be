"""Query root fields: the caller's wallet, tips, leaderboards, deposits and cashouts."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from shared.errors import NotFoundError
from subgraphs.wallet import _context as ctx
from subgraphs.wallet.resolvers.dead_letters import DeadLetterQuery
from subgraphs.wallet.services import cashouts, deposits, leaderboards, ledger, subscriptions, tips
from subgraphs.wallet.services.money import CURRENCIES
from subgraphs.wallet.types.leaderboard import LeaderboardEntry, LeaderboardKind, LeaderboardPeriod
from subgraphs.wallet.types.money import CurrencyInfo, Money, money, money_list
from subgraphs.wallet.types.plan import CreatorSubscription
from subgraphs.wallet.types.tip import Tip
from subgraphs.wallet.types.user import User
from subgraphs.wallet.types.wallet import Cashout, Deposit, Wallet

__all__ = ["Query"]


def _entry(ranked: leaderboards.RankedUser, currency: str) -> LeaderboardEntry:
    return LeaderboardEntry(rank=ranked.rank, user=User(id=strawberry.ID(ranked.user_id)),
                            total=money(ranked.total, currency))


@strawberry.type
class Query(DeadLetterQuery):  # type: ignore[misc,valid-type]
    @strawberry.federation.field(
        requires_scopes=[["read"], ["wallet:read"], ["write"], ["wallet:write"]],
        description="The caller's balances (authentication required).")
    async def my_wallet(self, info: Info[Any, Any]) -> Wallet:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            held = await ledger.holdings_of_user(session, user_id)

        def nonzero(kind: ledger.UserAccount, sign: int = 1) -> list[Money]:
            return money_list({c: sign * v for c, v in held.get(kind, {}).items() if v})

        return Wallet(balances=money_list(held.get(ledger.UserAccount.AVAILABLE, {})),
                      settling=nonzero(ledger.UserAccount.SETTLING),
                      disputed=nonzero(ledger.UserAccount.DISPUTED),
                      owed=nonzero(ledger.UserAccount.RECEIVABLE, -1))

    @strawberry.field
    async def tip(self, info: Info[Any, Any], id: strawberry.ID) -> Tip | None:
        async with ctx.session(info) as session:
            view = await tips.get_tip(session=session, tip_id=str(id))
        return Tip.from_view(view) if view is not None else None

    @strawberry.field(directives=[ListSize(assumed_size=10)])
    def currencies(self) -> list[CurrencyInfo]:
        return [CurrencyInfo(code=c.code, exponent=c.exponent) for c in CURRENCIES.values()]

    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"])],
        description="Top tippers or creators for a period, from the KV cache.")
    async def leaderboard(
        self, info: Info[Any, Any], kind: LeaderboardKind,
        period: LeaderboardPeriod = LeaderboardPeriod.ALL_TIME, currency: str = "USD", first: int = 10,
    ) -> list[LeaderboardEntry]:
        ranked = await leaderboards.top(
            ctx.kv(info), database=ctx.database(info), kind=leaderboards.BoardKind(kind.value),
            period=leaderboards.Period(period.value), currency=currency, limit=first,
        )
        return [_entry(r, currency.upper()) for r in ranked]

    @strawberry.field(description="The caller's own rank (null when not on the board).")
    async def my_leaderboard_rank(
        self, info: Info[Any, Any], kind: LeaderboardKind,
        period: LeaderboardPeriod = LeaderboardPeriod.ALL_TIME, currency: str = "USD",
    ) -> LeaderboardEntry | None:
        user_id = ctx.require_user(info)
        ranked = await leaderboards.own_rank(
            ctx.kv(info), database=ctx.database(info), kind=leaderboards.BoardKind(kind.value),
            period=leaderboards.Period(period.value), currency=currency, user_id=user_id,
        )
        return _entry(ranked, currency.upper()) if ranked is not None else None

    @strawberry.field
    async def deposit(self, info: Info[Any, Any], id: strawberry.ID) -> Deposit:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            view = await deposits.get_intent(session=session, intent_id=str(id))
        if view is None or view.user_id != user_id:
            raise NotFoundError("No such deposit")
        return Deposit.from_view(view)

    @strawberry.field(directives=[ListSize(assumed_size=20)])
    async def my_subscriptions(self, info: Info[Any, Any]) -> list[CreatorSubscription]:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            found = await subscriptions.list_subscriptions(session=session, subscriber_id=user_id)
        return [CreatorSubscription.from_view(s) for s in found]

    @strawberry.federation.field(
        directives=[ListSize(slicing_arguments=["first"])],
        requires_scopes=[["read"], ["wallet:read"], ["write"], ["wallet:write"]])
    async def my_cashouts(self, info: Info[Any, Any], first: int = 20) -> list[Cashout]:
        user_id = ctx.require_user(info)
        async with ctx.session(info) as session:
            found = await cashouts.list_cashouts(session=session, user_id=user_id, first=first)
        return [Cashout.from_view(c) for c in found]
