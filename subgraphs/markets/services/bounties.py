"""Bounties: post work with a reward held in the wallet's escrow, take applications, pay winners.

Each state change is one locked write transaction that looks its transition up in
`services.transitions`; money moves only through `services.escrow`, after the status that
explains the movement is committed (RELEASING, CAPTURING), so a crash between the two leaves
work the stale-bounty job finishes under the same idempotency key.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.errors import (
    BadUserInputError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
)
from shared.internal import InternalClient
from subgraphs.markets.models import Bounty, BountyApplication, utcnow
from subgraphs.markets.services import escrow
from subgraphs.markets.services._money import parse_amount, require_currency
from subgraphs.markets.services._tx import locked_bounty, write_transaction
from subgraphs.markets.services.transitions import (
    ApplicationStatus,
    BountyStatus,
    next_application_status,
    next_status,
)

__all__ = [
    "BountyDraft",
    "accept_application",
    "apply_to_bounty",
    "approve_submission",
    "aware",
    "cancel_bounty",
    "create_bounty",
    "decline_application",
    "expire_due",
    "get_application",
    "get_bounty",
    "list_applications",
    "list_bounties",
    "open_dispute",
    "publish_bounty",
    "request_changes",
    "settle",
    "settle_pending",
    "submit_work",
]

log = logging.getLogger("tributary.markets.bounties")

MAX_TITLE, MAX_DESCRIPTION, MAX_MESSAGE = 200, 20_000, 5_000
MAX_TAGS, MAX_TAG, MAX_ATTACHMENTS, MAX_WINNERS = 10, 32, 10, 50
_WORKING = (ApplicationStatus.ACCEPTED, ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED)


def aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; every stored one is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def _text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise BadUserInputError(f"{field} must not be empty",
                                extensions={"field": field, "reason": "EMPTY"})
    if len(text) > limit:
        raise BadUserInputError(f"{field} is at most {limit} characters",
                                extensions={"field": field, "reason": "TOO_LONG"})
    return text


def _tags(tags: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(t.strip().lower() for t in tags))
    if len(cleaned) > MAX_TAGS or any(not t or len(t) > MAX_TAG for t in cleaned):
        raise BadUserInputError(f"tags: at most {MAX_TAGS}, each 1 to {MAX_TAG} characters",
                                extensions={"field": "tags", "reason": "INVALID_TAGS"})
    return cleaned


class BountyDraft:
    """A validated createBounty input."""

    def __init__(self, *, title: str, description: str, reward: str, currency: str,
                 deadline: datetime, tags: Sequence[str] = (), attachment_ids: Sequence[str] = (),
                 winners: int = 1, now: datetime | None = None) -> None:
        self.title = _text(title, field="title", limit=MAX_TITLE)
        self.description = _text(description, field="description", limit=MAX_DESCRIPTION)
        self.currency = require_currency(currency)
        self.reward = parse_amount(reward, self.currency, field="reward")
        if deadline.tzinfo is None:
            raise BadUserInputError("deadline needs a time zone",
                                    extensions={"field": "deadline", "reason": "NO_TIME_ZONE"})
        if deadline <= (now or utcnow()):
            raise BadUserInputError("deadline must be in the future",
                                    extensions={"field": "deadline", "reason": "IN_THE_PAST"})
        self.deadline = deadline.astimezone(UTC)
        self.tags = _tags(tags)
        if len(attachment_ids) > MAX_ATTACHMENTS:
            raise BadUserInputError(f"at most {MAX_ATTACHMENTS} attachments",
                                    extensions={"field": "attachmentIds", "reason": "TOO_MANY"})
        self.attachment_ids = list(dict.fromkeys(attachment_ids))
        if not 1 <= winners <= MAX_WINNERS:
            raise BadUserInputError(f"winners must be 1 to {MAX_WINNERS}",
                                    extensions={"field": "winners", "reason": "OUT_OF_RANGE"})
        if self.reward * winners > 2**53 - 1:
            raise BadUserInputError("reward x winners is too large",
                                    extensions={"field": "reward", "reason": "OUT_OF_RANGE"})
        self.winners = winners


async def create_bounty(*, session: AsyncSession, poster_id: str, draft: BountyDraft) -> Bounty:
    bounty = Bounty(id=_new_id(), poster_id=poster_id, title=draft.title,
                    description=draft.description, reward_minor=draft.reward,
                    currency=draft.currency, deadline=draft.deadline, tags=draft.tags,
                    attachment_ids=draft.attachment_ids, winners=draft.winners,
                    status=BountyStatus.DRAFT)
    session.add(bounty)
    await session.commit()
    return bounty


async def get_bounty(*, session: AsyncSession, bounty_id: str) -> Bounty | None:
    return await session.get(Bounty, bounty_id, populate_existing=True)


async def list_bounties(*, session: AsyncSession, status: str | None = None,
                        poster_id: str | None = None, tag: str | None = None,
                        first: int = 20) -> list[Bounty]:
    query = sa.select(Bounty).order_by(Bounty.created_at.desc()).limit(max(1, min(first, 100)))  # type: ignore[attr-defined]
    if status is not None:
        query = query.where(Bounty.status == status)  # type: ignore[arg-type]
    if poster_id is not None:
        query = query.where(Bounty.poster_id == poster_id)  # type: ignore[arg-type]
    rows = list((await session.execute(query)).scalars())
    if tag is not None:  # tags are a JSON list: filtered here, portable across both databases
        rows = [b for b in rows if tag.lower() in b.tags]
    return rows


async def get_application(*, session: AsyncSession, application_id: str) -> BountyApplication | None:
    return await session.get(BountyApplication, application_id, populate_existing=True)


async def list_applications(*, session: AsyncSession, bounty_id: str,
                            hunter_id: str | None = None) -> list[BountyApplication]:
    query = (sa.select(BountyApplication).where(BountyApplication.bounty_id == bounty_id)  # type: ignore[arg-type]
             .order_by(BountyApplication.created_at))  # type: ignore[arg-type]
    if hunter_id is not None:
        query = query.where(BountyApplication.hunter_id == hunter_id)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())


def _own(bounty: Bounty, user_id: str) -> None:
    if bounty.poster_id != user_id:
        raise ForbiddenError("Only the bounty's poster may do this",
                             extensions={"reason": "NOT_POSTER"})


def _touch(row: Bounty | BountyApplication) -> None:
    row.updated_at = utcnow()


async def publish_bounty(*, database: Database, client: InternalClient, poster_id: str,
                         bounty_id: str, authorization: str, fee_bps: int,
                         now: datetime | None = None) -> Bounty:
    """DRAFT -> OPEN once the wallet holds reward x winners of the poster's own money."""
    async with database.session() as session:
        bounty = await get_bounty(session=session, bounty_id=bounty_id)
        if bounty is None:
            raise NotFoundError("No such bounty", extensions={"bountyId": bounty_id})
        _own(bounty, poster_id)
        if bounty.status == BountyStatus.OPEN and bounty.hold_id is not None:
            return bounty  # a retried publish: the hold is the one already recorded
        next_status(bounty.status, "publish")
        if aware(bounty.deadline) <= (now or utcnow()):
            raise ConflictError("The deadline has passed", extensions={"reason": "DEADLINE_PASSED"})
        amount, currency = bounty.reward_minor * bounty.winners, bounty.currency
    # No transaction is open while the wallet works; the key makes a retry the same hold.
    hold_id = await escrow.hold(client, authorization=authorization, bounty_id=bounty_id,
                                payer_id=poster_id, amount=amount, currency=currency)
    try:
        async with database.session() as session, write_transaction(session):
            bounty = await locked_bounty(session, bounty_id)
            if bounty.hold_id == hold_id:
                return bounty
            bounty.status = next_status(bounty.status, "publish")
            bounty.hold_id, bounty.escrow_status, bounty.fee_bps = hold_id, "HELD", fee_bps
            _touch(bounty)
            await session.commit()
            return bounty
    except ConflictError:
        # Cancelled while the wallet held: nothing may keep the money.
        await escrow.release(client, bounty_id=bounty_id, hold_id=hold_id)
        raise


async def cancel_bounty(*, database: Database, client: InternalClient, poster_id: str,
                        bounty_id: str) -> Bounty:
    """DRAFT/OPEN -> CANCELLED; an open bounty's hold goes back to the poster (once)."""
    async with database.session() as session, write_transaction(session):
        bounty = await locked_bounty(session, bounty_id)
        _own(bounty, poster_id)
        if bounty.status != BountyStatus.CANCELLED:  # a repeated cancel only settles
            bounty.status = next_status(bounty.status, "cancel")
            if bounty.hold_id is not None:
                bounty.escrow_status = "RELEASING"
            _touch(bounty)
            await session.commit()
    return await settle(database=database, client=client, bounty_id=bounty_id)


async def apply_to_bounty(*, session: AsyncSession, hunter_id: str, bounty_id: str,
                          message: str, quote: str | None, now: datetime | None = None
                          ) -> BountyApplication:
    text = _text(message, field="message", limit=MAX_MESSAGE)
    async with write_transaction(session):
        bounty = await locked_bounty(session, bounty_id)
        if bounty.poster_id == hunter_id:
            raise ForbiddenError("You cannot apply to your own bounty",
                                 extensions={"reason": "OWN_BOUNTY"})
        if bounty.status not in (BountyStatus.OPEN, BountyStatus.IN_PROGRESS):
            raise ConflictError(f"A bounty that is {bounty.status} takes no applications",
                                extensions={"reason": "ILLEGAL_TRANSITION", "status": bounty.status,
                                            "action": "apply"})
        if aware(bounty.deadline) <= (now or utcnow()):
            raise ConflictError("The deadline has passed", extensions={"reason": "DEADLINE_PASSED"})
        quote_minor = parse_amount(quote, bounty.currency, field="quote") if quote else None
        existing = await list_applications(session=session, bounty_id=bounty_id, hunter_id=hunter_id)
        if existing:
            raise ConflictError("You have already applied to this bounty",
                                extensions={"reason": "ALREADY_APPLIED"})
        application = BountyApplication(id=_new_id(), bounty_id=bounty_id, hunter_id=hunter_id,
                                        message=text, quote_minor=quote_minor)
        session.add(application)
        await session.commit()
    return application


async def _locked_application(session: AsyncSession, application_id: str
                              ) -> tuple[Bounty, BountyApplication]:
    found = await session.get(BountyApplication, application_id)
    if found is None:
        raise NotFoundError("No such application", extensions={"applicationId": application_id})
    bounty = await locked_bounty(session, found.bounty_id)
    application = await session.get(BountyApplication, application_id, populate_existing=True)
    assert application is not None
    return bounty, application


async def _working(session: AsyncSession, bounty_id: str) -> list[BountyApplication]:
    return [a for a in await list_applications(session=session, bounty_id=bounty_id)
            if a.status in _WORKING]


async def accept_application(*, session: AsyncSession, poster_id: str, application_id: str,
                             now: datetime | None = None) -> BountyApplication:
    async with write_transaction(session):
        bounty, application = await _locked_application(session, application_id)
        _own(bounty, poster_id)
        new_status = next_status(bounty.status, "accept")
        accepted = next_application_status(application.status, "accept")
        if aware(bounty.deadline) <= (now or utcnow()):
            raise ConflictError("The deadline has passed", extensions={"reason": "DEADLINE_PASSED"})
        if len(await _working(session, bounty.id)) >= bounty.winners:
            raise ConflictError(f"This bounty already has its {bounty.winners} winner(s)",
                                extensions={"reason": "WINNERS_FILLED"})
        bounty.status, application.status = new_status, accepted
        _touch(bounty)
        _touch(application)
        await session.commit()
    return application


async def decline_application(*, session: AsyncSession, poster_id: str, application_id: str
                              ) -> BountyApplication:
    async with write_transaction(session):
        bounty, application = await _locked_application(session, application_id)
        _own(bounty, poster_id)
        application.status = next_application_status(application.status, "decline")
        _touch(application)
        await session.commit()
    return application


async def submit_work(*, session: AsyncSession, hunter_id: str, application_id: str, text: str,
                      attachment_ids: Sequence[str] = ()) -> BountyApplication:
    body = _text(text, field="text", limit=MAX_DESCRIPTION)
    if len(attachment_ids) > MAX_ATTACHMENTS:
        raise BadUserInputError(f"at most {MAX_ATTACHMENTS} attachments",
                                extensions={"field": "attachmentIds", "reason": "TOO_MANY"})
    async with write_transaction(session):
        bounty, application = await _locked_application(session, application_id)
        if application.hunter_id != hunter_id:
            raise ForbiddenError("Only the application's hunter may submit",
                                 extensions={"reason": "NOT_HUNTER"})
        new_status = next_status(bounty.status, "submit")
        application.status = next_application_status(application.status, "submit")
        application.submission_text = body
        application.submission_attachment_ids = list(dict.fromkeys(attachment_ids))
        bounty.status = new_status
        _touch(bounty)
        _touch(application)
        await session.commit()
    return application


async def _review(session: AsyncSession, bounty: Bounty) -> BountyStatus:
    working = await _working(session, bounty.id)
    if any(a.status == ApplicationStatus.SUBMITTED for a in working):
        return next_status(bounty.status, "review", choose=BountyStatus.SUBMITTED)
    return next_status(bounty.status, "review", choose=BountyStatus.IN_PROGRESS)


async def request_changes(*, session: AsyncSession, poster_id: str, application_id: str,
                          feedback: str) -> BountyApplication:
    note = _text(feedback, field="feedback", limit=MAX_MESSAGE)
    async with write_transaction(session):
        bounty, application = await _locked_application(session, application_id)
        _own(bounty, poster_id)
        next_status(bounty.status, "review", choose=BountyStatus.IN_PROGRESS)
        application.status = next_application_status(application.status, "request_changes")
        application.feedback = note
        await session.flush()
        bounty.status = await _review(session, bounty)
        _touch(bounty)
        _touch(application)
        await session.commit()
    return application


async def approve_submission(*, database: Database, client: InternalClient, poster_id: str,
                             application_id: str) -> BountyApplication:
    """Approve one winner's work; the last approval completes the bounty and captures."""
    async with database.session() as session, write_transaction(session):
        bounty, application = await _locked_application(session, application_id)
        _own(bounty, poster_id)
        next_status(bounty.status, "complete")  # only a SUBMITTED bounty has work to approve
        application.status = next_application_status(application.status, "approve")
        _touch(application)
        await session.flush()
        working = await _working(session, bounty.id)
        if all(a.status == ApplicationStatus.APPROVED for a in working):
            bounty.status = next_status(bounty.status, "complete")
            bounty.escrow_status = "CAPTURING"
        else:
            bounty.status = await _review(session, bounty)
        _touch(bounty)
        await session.commit()
    await settle(database=database, client=client, bounty_id=application.bounty_id)
    return application


async def open_dispute(*, session: AsyncSession, user_id: str, bounty_id: str, reason: str
                       ) -> Bounty:
    why = _text(reason, field="reason", limit=2000)
    async with write_transaction(session):
        bounty = await locked_bounty(session, bounty_id)
        hunters = {a.hunter_id for a in await _working(session, bounty_id)}
        if user_id != bounty.poster_id and user_id not in hunters:
            raise ForbiddenError("Only the poster or an accepted hunter may dispute",
                                 extensions={"reason": "NOT_A_PARTY"})
        bounty.status = next_status(bounty.status, "dispute")
        bounty.dispute_reason = why
        _touch(bounty)
        await session.commit()
    return bounty


def _payouts(bounty: Bounty, winners: Sequence[BountyApplication]) -> tuple[list[escrow.Payout], int]:
    fee_each = bounty.reward_minor * bounty.fee_bps // 10_000
    payouts = [escrow.Payout(recipient_id=a.hunter_id, amount=bounty.reward_minor - fee_each)
               for a in sorted(winners, key=lambda a: a.id)]
    return payouts, fee_each * len(payouts)


async def settle(*, database: Database, client: InternalClient, bounty_id: str) -> Bounty:
    """Finish the escrow movement the bounty's committed status asks for (safe to repeat).

    A wallet that cannot answer leaves RELEASING/CAPTURING for the stale-bounty job.
    """
    async with database.session() as session:
        bounty = await get_bounty(session=session, bounty_id=bounty_id)
        assert bounty is not None
        if bounty.escrow_status not in ("RELEASING", "CAPTURING") or bounty.hold_id is None:
            return bounty
        wanted = bounty.escrow_status
        winners = [a for a in await list_applications(session=session, bounty_id=bounty_id)
                   if a.status == ApplicationStatus.APPROVED]
    try:
        if wanted == "RELEASING":
            await escrow.release(client, bounty_id=bounty_id, hold_id=bounty.hold_id)
        else:
            payouts, fee = _payouts(bounty, winners)
            await escrow.capture(client, bounty_id=bounty_id, hold_id=bounty.hold_id,
                                 payouts=payouts, fee=fee)
    except ServiceUnavailableError:
        log.warning("wallet unavailable: bounty %s stays %s for the stale-bounty job",
                    bounty_id, wanted)
        return bounty
    done = "RELEASED" if wanted == "RELEASING" else "CAPTURED"
    async with database.session() as session:
        await session.execute(
            sa.update(Bounty).where(Bounty.id == bounty_id, Bounty.escrow_status == wanted)  # type: ignore[arg-type]
            .values(escrow_status=done, updated_at=utcnow()))
        await session.commit()
        found = await get_bounty(session=session, bounty_id=bounty_id)
    assert found is not None
    return found


async def expire_due(*, database: Database, client: InternalClient, now: datetime | None = None,
                     limit: int = 100) -> int:
    """OPEN bounties past their deadline become EXPIRED and their hold is released.

    Two workers may run this at once: the locked transition lets one of them expire each
    bounty, and the release's key makes a second call the same release.
    """
    moment = now or utcnow()
    async with database.session() as session:
        due = list((await session.execute(
            sa.select(Bounty.id).where(Bounty.status == BountyStatus.OPEN,  # type: ignore[arg-type]
                                       Bounty.deadline < moment)  # type: ignore[arg-type]
            .order_by(Bounty.deadline).limit(limit))).scalars())  # type: ignore[arg-type]
    expired = 0
    for bounty_id in due:
        async with database.session() as session, write_transaction(session):
            bounty = await locked_bounty(session, bounty_id)
            if bounty.status != BountyStatus.OPEN:
                continue  # another worker (or the poster) got there first
            bounty.status = next_status(bounty.status, "expire")
            bounty.escrow_status = "RELEASING" if bounty.hold_id else bounty.escrow_status
            _touch(bounty)
            await session.commit()
            expired += 1
        await settle(database=database, client=client, bounty_id=bounty_id)
    return expired


async def settle_pending(*, database: Database, client: InternalClient, limit: int = 100) -> int:
    """Retry every release or capture a wallet outage (or a crash) left unfinished."""
    async with database.session() as session:
        pending = list((await session.execute(
            sa.select(Bounty.id).where(Bounty.escrow_status.in_(("RELEASING", "CAPTURING")))  # type: ignore[attr-defined]
            .limit(limit))).scalars())
    for bounty_id in pending:
        await settle(database=database, client=client, bounty_id=bounty_id)
    return len(pending)
