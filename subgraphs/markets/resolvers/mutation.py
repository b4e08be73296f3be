"""Mutation root fields of markets: thin, each one service call after its reference checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from shared.references import MEDIA, USER
from subgraphs.markets import _context as ctx
from subgraphs.markets.services import bounties
from subgraphs.markets.types.bounty import Bounty, BountyApplication

__all__ = ["CreateBountyInput", "Mutation"]


@strawberry.input
class CreateBountyInput:
    title: str
    description: str
    reward: str = strawberry.field(description='Per winner, decimal in major units ("50.00").')
    deadline: datetime
    currency: str = "USD"
    tags: list[str] = strawberry.field(default_factory=list)
    attachment_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    winners: int = 1


async def _viewer(info: Info[Any, Any]) -> str:
    """The signed-in user, known to identity (a token outliving its account writes nothing)."""
    user = ctx.require_user(info)
    await ctx.references(info).require(USER, [user], field_name="viewer")
    return user


async def _media(info: Info[Any, Any], ids: list[strawberry.ID], field: str) -> list[str]:
    found = [str(i) for i in ids]
    if found:  # content owns media; while it cannot answer, no attachment is accepted
        await ctx.references(info).require(MEDIA, found, field_name=field)
    return found


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Write a DRAFT bounty; nothing is held until it is published.")
    async def create_bounty(self, info: Info[Any, Any], input: CreateBountyInput) -> Bounty:
        poster = await _viewer(info)
        draft = bounties.BountyDraft(
            title=input.title, description=input.description, reward=input.reward,
            currency=input.currency, deadline=input.deadline, tags=input.tags,
            attachment_ids=await _media(info, input.attachment_ids, "attachmentIds"),
            winners=input.winners)
        async with ctx.session(info) as session:
            row = await bounties.create_bounty(session=session, poster_id=poster, draft=draft)
        return Bounty.from_row(row)

    @strawberry.mutation(description="Open the bounty: the wallet holds reward x winners.")
    async def publish_bounty(self, info: Info[Any, Any], id: strawberry.ID) -> Bounty:
        poster = await _viewer(info)
        row = await bounties.publish_bounty(
            database=ctx.database(info), client=ctx.client(info), poster_id=poster,
            bounty_id=str(id), authorization=ctx.user_authorization(info),
            fee_bps=ctx.settings(info).bounty_fee_bps)
        return Bounty.from_row(row)

    @strawberry.mutation(description="Cancel before anyone is accepted; the hold is released.")
    async def cancel_bounty(self, info: Info[Any, Any], id: strawberry.ID) -> Bounty:
        poster = await _viewer(info)
        row = await bounties.cancel_bounty(database=ctx.database(info), client=ctx.client(info),
                                           poster_id=poster, bounty_id=str(id))
        return Bounty.from_row(row)

    @strawberry.mutation(description="Apply as a hunter, with a message and an optional quote.")
    async def apply_to_bounty(self, info: Info[Any, Any], bounty_id: strawberry.ID, message: str,
                              quote: str | None = None) -> BountyApplication:
        hunter = await _viewer(info)
        async with ctx.session(info) as session:
            row = await bounties.apply_to_bounty(session=session, hunter_id=hunter,
                                                 bounty_id=str(bounty_id), message=message,
                                                 quote=quote)
            return await _application(session, row)

    @strawberry.mutation(description="Accept a hunter (up to the bounty's number of winners).")
    async def accept_application(self, info: Info[Any, Any], id: strawberry.ID) -> BountyApplication:
        poster = await _viewer(info)
        async with ctx.session(info) as session:
            row = await bounties.accept_application(session=session, poster_id=poster,
                                                    application_id=str(id))
            return await _application(session, row)

    @strawberry.mutation
    async def decline_application(self, info: Info[Any, Any], id: strawberry.ID) -> BountyApplication:
        poster = await _viewer(info)
        async with ctx.session(info) as session:
            row = await bounties.decline_application(session=session, poster_id=poster,
                                                     application_id=str(id))
            return await _application(session, row)

    @strawberry.mutation(description="Hand in the work of an accepted application.")
    async def submit_work(self, info: Info[Any, Any], application_id: strawberry.ID, text: str,
                          attachment_ids: list[strawberry.ID] | None = None) -> BountyApplication:
        hunter = await _viewer(info)
        media = await _media(info, attachment_ids or [], "attachmentIds")
        async with ctx.session(info) as session:
            row = await bounties.submit_work(session=session, hunter_id=hunter,
                                             application_id=str(application_id), text=text,
                                             attachment_ids=media)
            return await _application(session, row)

    @strawberry.mutation(description="Approve a submission; the last one captures the escrow "
                                     "to the winners minus the platform fee.")
    async def approve_submission(self, info: Info[Any, Any], application_id: strawberry.ID
                                 ) -> BountyApplication:
        poster = await _viewer(info)
        row = await bounties.approve_submission(
            database=ctx.database(info), client=ctx.client(info), poster_id=poster,
            application_id=str(application_id))
        async with ctx.session(info) as session:
            return await _application(session, row)

    @strawberry.mutation
    async def request_changes(self, info: Info[Any, Any], application_id: strawberry.ID,
                              feedback: str) -> BountyApplication:
        poster = await _viewer(info)
        async with ctx.session(info) as session:
            row = await bounties.request_changes(session=session, poster_id=poster,
                                                 application_id=str(application_id),
                                                 feedback=feedback)
            return await _application(session, row)

    @strawberry.mutation(description="Poster or accepted hunter: freeze the bounty for a "
                                     "moderator (the decision is not built yet; the hold stays).")
    async def open_bounty_dispute(self, info: Info[Any, Any], id: strawberry.ID, reason: str) -> Bounty:
        user = await _viewer(info)
        async with ctx.session(info) as session:
            row = await bounties.open_dispute(session=session, user_id=user, bounty_id=str(id),
                                              reason=reason)
        return Bounty.from_row(row)


async def _application(session: Any, row: Any) -> BountyApplication:
    bounty = await bounties.get_bounty(session=session, bounty_id=row.bounty_id)
    assert bounty is not None
    return BountyApplication.from_row(row, currency=bounty.currency)
