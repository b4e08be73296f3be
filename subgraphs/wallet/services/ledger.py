"""The double-entry ledger: accounts, journal entries whose lines sum to zero, cached balances.

Money-moving services call `begin_write` first in a fresh transaction, then `post_entry`, then
commit. On PostgreSQL the touched accounts are row-locked (`SELECT ... FOR UPDATE`, ascending id,
so two entries touching the same accounts cannot deadlock); on SQLite `BEGIN IMMEDIATE` takes the
database write lock up front, so every read inside the transaction is already serialised.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInputError
from subgraphs.wallet.models import Account, JournalEntry, JournalLine, utcnow
from subgraphs.wallet.services.money import MAX_AMOUNT, get_currency

__all__ = [
    "AccountFrozenError",
    "AccountRef",
    "InsufficientFundsError",
    "Posting",
    "SystemAccount",
    "UserAccount",
    "balance_of",
    "balances_of_user",
    "begin_write",
    "dialect_of",
    "holdings_of_user",
    "lock_balances",
    "new_id",
    "post_entry",
    "system_account",
    "user_account",
    "user_subaccount",
    "write_transaction",
]


class SystemAccount(StrEnum):
    """Platform-side accounts; they may go negative (money entering or leaving the platform)."""

    DEPOSITS_CLEARING = "deposits_clearing"
    CASHOUT_CLEARING = "cashout_clearing"
    CASHOUTS_PAID = "cashouts_paid"
    ESCROW_HOLDS = "escrow_holds"
    FEES = "fees"


class UserAccount(StrEnum):
    """A user's accounts per currency, as `owner_kind`: only AVAILABLE can be spent.

    SETTLING holds credited deposits until their settlement hold ends; DISPUTED holds the
    amount of an open dispute; RECEIVABLE (never positive) is what the user owes after a
    refund or dispute of money already spent, and while it is below zero the user is frozen.
    """

    AVAILABLE = "user"
    SETTLING = "user_settling"
    DISPUTED = "user_disputed"
    RECEIVABLE = "user_receivable"


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountRef:
    owner_kind: str  # "system" or a UserAccount
    owner_id: str
    currency: str

    @property
    def allow_negative(self) -> bool:
        if self.owner_kind == UserAccount.RECEIVABLE:
            return True
        return self.owner_kind == "system" and self.owner_id in (
            SystemAccount.DEPOSITS_CLEARING,
            SystemAccount.CASHOUTS_PAID,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Posting:
    account: AccountRef
    amount: int  # signed minor units: negative debits the account's balance, positive credits it


class InsufficientFundsError(BadUserInputError):
    def __init__(self, *, currency: str, available: int, requested: int) -> None:
        super().__init__(
            "Insufficient funds",
            extensions={
                "reason": "INSUFFICIENT_FUNDS",
                "currency": currency,
                "availableMinor": available,
                "requestedMinor": requested,
            },
        )


class AccountFrozenError(InsufficientFundsError):
    """The payer owes the platform (a refund or dispute of money already spent): nothing leaves.

    A kind of InsufficientFundsError, so every caller that handles "cannot pay" (renewals going
    past due, for one) handles a frozen payer the same way.
    """

    def __init__(self, *, currency: str, owed: int) -> None:
        BadUserInputError.__init__(
            self,
            "This account is frozen until what it owes the platform is repaid",
            extensions={"reason": "ACCOUNT_FROZEN", "currency": currency, "owedMinor": owed},
        )


def user_account(user_id: str, currency: str) -> AccountRef:
    """The user's available balance: the only user account anything can be spent from."""
    return AccountRef(owner_kind=UserAccount.AVAILABLE, owner_id=user_id, currency=currency)


def user_subaccount(kind: UserAccount, user_id: str, currency: str) -> AccountRef:
    return AccountRef(owner_kind=kind, owner_id=user_id, currency=currency)


def system_account(code: SystemAccount, currency: str) -> AccountRef:
    return AccountRef(owner_kind="system", owner_id=str(code), currency=currency)


def new_id() -> str:
    return uuid.uuid4().hex


async def begin_write(session: AsyncSession) -> None:
    """Open the write transaction of a money-moving operation (call first, on a fresh session).

    Prefer `write_transaction`, which also serialises writers inside this process on SQLite.
    """
    if _dialect(session) == "sqlite":
        # Take the database write lock now, so the balance checks below see the latest commits
        # and no other writer can slip in between check and write.
        await session.execute(sa.text("BEGIN IMMEDIATE"))


_sqlite_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[None]:
    """The body runs in one write transaction and commits itself; left open, it is rolled back.

    SQLite allows one writer; queueing on an asyncio lock first (per engine) keeps the writers
    of this process from spinning on the busy timeout, and BEGIN IMMEDIATE still excludes
    writers in other processes (workers, a second server).
    """
    lock = None
    if _dialect(session) == "sqlite":
        engine = session.get_bind()
        lock = _sqlite_locks.setdefault(engine, asyncio.Lock())
        await lock.acquire()
    try:
        await begin_write(session)
        yield
    finally:
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            if lock is not None:
                lock.release()


async def post_entry(
    session: AsyncSession,
    *,
    kind: str,
    postings: Sequence[Posting],
    reference: str | None = None,
    entry_id: str | None = None,
    allow_frozen: bool = False,
) -> str:
    """Write one balanced journal entry and update the cached balances; returns the entry id.

    Raises InsufficientFundsError (nothing written) if a non-negative account would go below 0,
    and AccountFrozenError if it debits the available balance of a user who owes the platform
    (`allow_frozen`: refunds and disputes, which take money back from such a user).
    The caller commits (or rolls back) the transaction opened with `begin_write`.
    """
    currency = _check_postings(postings)
    totals: dict[AccountRef, int] = defaultdict(int)
    for posting in postings:
        totals[posting.account] += posting.amount
    if not allow_frozen:
        await _refuse_frozen(session, [
            ref.owner_id for ref, delta in totals.items()
            if delta < 0 and ref.owner_kind == UserAccount.AVAILABLE
        ])
    locked = await _lock_accounts(session, list(totals))
    ids = {ref: account_id for ref, (account_id, _) in locked.items()}
    for ref, delta in totals.items():
        balance = locked[ref][1]
        if delta < 0 and not ref.allow_negative and balance + delta < 0:
            raise InsufficientFundsError(currency=currency, available=balance, requested=-delta)
    entry_id = entry_id or new_id()
    await session.execute(sa.insert(JournalEntry).values(
        id=entry_id, kind=kind, currency=currency, reference=reference, created_at=utcnow()
    ))
    await session.execute(sa.insert(JournalLine).values([
        {"entry_id": entry_id, "account_id": ids[p.account], "currency": currency, "amount": p.amount}
        for p in postings
    ]))
    deltas = {ids[ref]: delta for ref, delta in totals.items() if delta}
    if deltas:
        # One statement for every touched account (rows are already locked).
        await session.execute(
            sa.update(Account)
            .where(Account.id.in_(list(deltas)))  # type: ignore[union-attr]
            .values(balance=Account.balance + sa.case(deltas, value=Account.id))
        )
    return entry_id


async def _refuse_frozen(session: AsyncSession, payers: list[str]) -> None:
    if not payers:
        return
    owed = (await session.execute(
        sa.select(Account.currency, Account.balance).where(
            Account.owner_kind == UserAccount.RECEIVABLE,  # type: ignore[arg-type]
            Account.owner_id.in_(payers),  # type: ignore[attr-defined]
            Account.balance < 0,  # type: ignore[arg-type]
        ).limit(1)
    )).first()
    if owed is not None:
        raise AccountFrozenError(currency=owed[0], owed=-int(owed[1]))


async def lock_balances(session: AsyncSession, refs: Sequence[AccountRef]) -> dict[AccountRef, int]:
    """The balances of `refs` (accounts created if missing), row-locked on PostgreSQL.

    One statement in ascending id order, as `post_entry` locks: a service that must read
    balances before it can build its postings locks every account of the entry here first.
    """
    locked = await _lock_accounts(session, list(dict.fromkeys(refs)))
    return {ref: balance for ref, (_, balance) in locked.items()}


def _check_postings(postings: Sequence[Posting]) -> str:
    # Programming errors, not user errors: services validate user input before building postings.
    if len(postings) < 2:
        raise ValueError("a journal entry needs at least two lines")
    currencies = {p.account.currency for p in postings}
    if len(currencies) != 1:
        raise ValueError(f"a journal entry has one currency, got {sorted(currencies)}")
    if sum(p.amount for p in postings) != 0:
        raise ValueError("journal entry lines must sum to zero")
    for p in postings:
        if isinstance(p.amount, bool) or not isinstance(p.amount, int) or not p.amount:
            raise ValueError(f"bad line amount {p.amount!r}")
        if abs(p.amount) > MAX_AMOUNT:
            raise BadUserInputError("Amount too large", extensions={"reason": "TOO_LARGE"})
    currency = currencies.pop()
    get_currency(currency)
    return currency


async def _lock_accounts(
    session: AsyncSession, refs: list[AccountRef]
) -> dict[AccountRef, tuple[int, int]]:
    """(id, balance) of each account, created if missing, row-locked on PostgreSQL."""
    found = await _select_accounts(session, refs, lock=True)
    missing = [r for r in refs if r not in found]
    if missing:
        insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
        now = utcnow()
        # ON CONFLICT DO NOTHING: two first-time tips to the same creator may race to create it.
        await session.execute(insert(Account).values([
            {"owner_kind": r.owner_kind, "owner_id": r.owner_id, "currency": r.currency,
             "balance": 0, "allow_negative": r.allow_negative, "created_at": now}
            for r in missing
        ]).on_conflict_do_nothing())
        found = await _select_accounts(session, refs, lock=True)
    return found


async def _select_accounts(
    session: AsyncSession, refs: list[AccountRef], *, lock: bool
) -> dict[AccountRef, tuple[int, int]]:
    conditions = [
        sa.and_(
            Account.owner_kind == r.owner_kind,  # type: ignore[arg-type]
            Account.owner_id == r.owner_id,  # type: ignore[arg-type]
            Account.currency == r.currency,  # type: ignore[arg-type]
        )
        for r in refs
    ]
    query = (
        sa.select(Account.id, Account.owner_kind, Account.owner_id, Account.currency, Account.balance)
        .where(sa.or_(*conditions))
        .order_by(Account.id)  # lock order: ascending id, the same in every transaction
    )
    if lock and _dialect(session) == "postgresql":
        query = query.with_for_update()
    result = await session.execute(query)
    return {
        AccountRef(owner_kind=kind, owner_id=owner, currency=cur): (account_id, int(balance))
        for account_id, kind, owner, cur, balance in result.all()
    }


async def balance_of(session: AsyncSession, account: AccountRef) -> int:
    """The cached balance of an account (0 if it was never used)."""
    result = await session.execute(
        sa.select(Account.balance).where(
            Account.owner_kind == account.owner_kind,  # type: ignore[arg-type]
            Account.owner_id == account.owner_id,  # type: ignore[arg-type]
            Account.currency == account.currency,  # type: ignore[arg-type]
        )
    )
    return int(result.scalar_one_or_none() or 0)


async def balances_of_user(session: AsyncSession, user_id: str) -> dict[str, int]:
    """A user's available balance per currency (only currencies the user has touched)."""
    return (await holdings_of_user(session, user_id)).get(UserAccount.AVAILABLE, {})


async def holdings_of_user(session: AsyncSession, user_id: str) -> dict[UserAccount, dict[str, int]]:
    """Every account of a user: kind -> currency -> balance (accounts never used are absent)."""
    result = await session.execute(
        sa.select(Account.owner_kind, Account.currency, Account.balance)
        .where(Account.owner_kind.in_(list(UserAccount)), Account.owner_id == user_id)  # type: ignore[attr-defined,arg-type]
        .order_by(Account.currency)
    )
    holdings: dict[UserAccount, dict[str, int]] = {}
    for kind, currency, balance in result.all():
        holdings.setdefault(UserAccount(kind), {})[currency] = int(balance)
    return holdings


def dialect_of(session: AsyncSession) -> str:
    """"sqlite" or "postgresql": the services pick locking statements by it."""
    return _dialect(session)


def _dialect(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name
