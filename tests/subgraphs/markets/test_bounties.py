"""Bounties through the gateway with the real wallet: escrow held, released, captured.

identity, wallet, markets and a gateway run on loopback; the markets database is SQLite or
PostgreSQL (the `db` fixture), the wallet's a SQLite file. Balances are read from the
wallet's ledger, never from markets.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from shared.db import Database
from subgraphs.markets.models import Bounty, BountyApplication
from subgraphs.markets.services.bounties import expire_due
from subgraphs.wallet.services.ledger import SystemAccount
from tests.e2e._stack import register_and_login
from tests.subgraphs.markets._stack import Stack, bounty_stack
from tests.subgraphs.wallet.helpers import assert_balanced, fund

FIELDS = "id status escrowStatus reward { amount } totalReward { minorUnits } feeBps"
CREATE = f"""mutation($input: CreateBountyInput!) {{ createBounty(input: $input) {{ {FIELDS} }} }}"""
PUBLISH = f"mutation($id: ID!) {{ publishBounty(id: $id) {{ {FIELDS} }} }}"
CANCEL = f"mutation($id: ID!) {{ cancelBounty(id: $id) {{ {FIELDS} }} }}"
APPLY = """mutation($b: ID!, $m: String!, $q: String) {
  applyToBounty(bountyId: $b, message: $m, quote: $q) { id status quote { amount } hunter { id } }
}"""
ACCEPT = "mutation($id: ID!) { acceptApplication(id: $id) { id status bounty { status } } }"
DECLINE = "mutation($id: ID!) { declineApplication(id: $id) { id status } }"
SUBMIT = """mutation($id: ID!, $t: String!) {
  submitWork(applicationId: $id, text: $t) { id status bounty { status } }
}"""
CHANGES = """mutation($id: ID!, $f: String!) {
  requestChanges(applicationId: $id, feedback: $f) { id status feedback bounty { status } }
}"""
APPROVE = """mutation($id: ID!) {
  approveSubmission(applicationId: $id) { id status bounty { status escrowStatus } }
}"""
READ = """query($id: ID!) { bounty(id: $id) { id status escrowStatus poster { id handle }
  applications { id status hunter { id handle } } } }"""


def _input(**overrides: Any) -> dict[str, Any]:
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return {"title": "Fix the flaky test", "description": "It fails one run in ten.",
            "reward": "50.00", "deadline": deadline, "tags": ["python", "CI"], **overrides}


def _codes(result: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["extensions"]["code"], e["extensions"].get("reason")) for e in result["errors"]]


async def _rows(db: Database) -> list[tuple[Any, ...]]:
    """Every bounty and application column: what "nothing written" is checked against."""
    async with db.session() as session:
        bounties = (await session.execute(sa.select(Bounty).order_by(Bounty.id))).scalars()  # type: ignore[arg-type]
        found = [tuple(b.model_dump().items()) for b in bounties]
        apps = (await session.execute(sa.select(BountyApplication)
                                      .order_by(BountyApplication.id))).scalars()  # type: ignore[arg-type]
        return found + [tuple(a.model_dump().items()) for a in apps]


async def _published(stack: Stack, token: str, **overrides: Any) -> str:
    created = await stack.api.data(CREATE, {"input": _input(**overrides)}, token=token)
    bounty_id: str = created["createBounty"]["id"]
    published = await stack.api.data(PUBLISH, {"id": bounty_id}, token=token)
    assert published["publishBounty"]["status"] == "OPEN"
    return bounty_id


async def test_a_bounty_from_publication_to_payout(tmp_path: Path, db: Database) -> None:
    async with bounty_stack(tmp_path, db) as stack:
        api = stack.api
        poster = await register_and_login(api, "poster", "Poster")
        ann = await register_and_login(api, "ann", "Ann")
        ben = await register_and_login(api, "ben", "Ben")
        await fund(stack.wallet_db, poster.id, 10_000)

        created = (await api.data(CREATE, {"input": _input()}, token=poster.token))["createBounty"]
        assert created["status"] == "DRAFT" and created["escrowStatus"] == "NONE"
        assert await stack.balance(poster.id) == 10_000
        published = (await api.data(PUBLISH, {"id": created["id"]}, token=poster.token))["publishBounty"]
        assert (published["status"], published["escrowStatus"], published["feeBps"]) == ("OPEN", "HELD", 500)
        assert await stack.balance(poster.id) == 5_000
        assert await stack.account(SystemAccount.ESCROW_HOLDS) == 5_000
        # A retried publish is the same hold, not a second one.
        await api.data(PUBLISH, {"id": created["id"]}, token=poster.token)
        assert await stack.balance(poster.id) == 5_000 and await stack.entries("escrow_hold") == 1

        a = (await api.data(APPLY, {"b": created["id"], "m": "I know this one", "q": "45.00"},
                            token=ann.token))["applyToBounty"]
        assert a["status"] == "PENDING" and a["quote"] == {"amount": "45.00"}
        b = (await api.data(APPLY, {"b": created["id"], "m": "Me too"}, token=ben.token))["applyToBounty"]
        accepted = (await api.data(ACCEPT, {"id": a["id"]}, token=poster.token))["acceptApplication"]
        assert accepted == {"id": a["id"], "status": "ACCEPTED", "bounty": {"status": "IN_PROGRESS"}}
        declined = (await api.data(DECLINE, {"id": b["id"]}, token=poster.token))["declineApplication"]
        assert declined["status"] == "DECLINED"

        sent = (await api.data(SUBMIT, {"id": a["id"], "t": "PR #12"}, token=ann.token))["submitWork"]
        assert sent["bounty"] == {"status": "SUBMITTED"}
        changes = (await api.data(CHANGES, {"id": a["id"], "f": "add a test"}, token=poster.token))
        assert changes["requestChanges"]["status"] == "ACCEPTED"
        assert changes["requestChanges"]["bounty"] == {"status": "IN_PROGRESS"}
        await api.data(SUBMIT, {"id": a["id"], "t": "PR #12, with a test"}, token=ann.token)
        approved = (await api.data(APPROVE, {"id": a["id"]}, token=poster.token))["approveSubmission"]
        assert approved["bounty"] == {"status": "COMPLETED", "escrowStatus": "CAPTURED"}

        # 50.00 to Ann minus 5 %: 47.50 to her, 2.50 to the fee account, nothing left held.
        assert await stack.balance(ann.id) == 4_750
        assert await stack.balance(ben.id) == 0
        assert await stack.balance(poster.id) == 5_000
        assert await stack.account(SystemAccount.FEES) == 250
        assert await stack.account(SystemAccount.ESCROW_HOLDS) == 0
        await assert_balanced(stack.wallet_db)

        # Approving twice is out of order: coded, and neither markets nor the wallet writes.
        before, entries = await _rows(db), await stack.entries()
        again = await api(APPROVE, {"id": a["id"]}, token=poster.token)
        assert _codes(again) == [("CONFLICT", "ILLEGAL_TRANSITION")]
        assert await _rows(db) == before and await stack.entries() == entries

        seen = (await api.data(READ, {"id": created["id"]}, token=poster.token))["bounty"]
        assert seen["poster"] == {"id": poster.id, "handle": "poster"}
        assert {(x["hunter"]["handle"], x["status"]) for x in seen["applications"]} == {
            ("ann", "APPROVED"), ("ben", "DECLINED")}
        # A hunter sees their own application only.
        theirs = (await api.data(READ, {"id": created["id"]}, token=ben.token))["bounty"]
        assert [x["hunter"]["handle"] for x in theirs["applications"]] == ["ben"]


async def test_a_poster_without_funds_gets_a_coded_error_and_no_open_bounty(
        tmp_path: Path, db: Database) -> None:
    async with bounty_stack(tmp_path, db) as stack:
        poster = await register_and_login(stack.api, "broke", "Broke")
        await fund(stack.wallet_db, poster.id, 1_000)
        created = (await stack.api.data(CREATE, {"input": _input()}, token=poster.token))["createBounty"]
        entries = await stack.entries()
        refused = await stack.api(PUBLISH, {"id": created["id"]}, token=poster.token)
        assert _codes(refused) == [("BAD_USER_INPUT", "INSUFFICIENT_FUNDS")]
        assert await stack.entries() == entries and await stack.balance(poster.id) == 1_000
        seen = (await stack.api.data(READ, {"id": created["id"]}, token=poster.token))["bounty"]
        assert (seen["status"], seen["escrowStatus"]) == ("DRAFT", "NONE")
        listed = await stack.api.data("{ openBounties { id } }")
        assert listed["openBounties"] == []


async def test_cancelling_releases_the_hold_exactly_once_even_when_retried(
        tmp_path: Path, db: Database) -> None:
    async with bounty_stack(tmp_path, db) as stack:
        poster = await register_and_login(stack.api, "canceller", "Canceller")
        await fund(stack.wallet_db, poster.id, 10_000)
        bounty_id = await _published(stack, poster.token)
        assert await stack.balance(poster.id) == 5_000
        answers = await asyncio.gather(*[stack.api(CANCEL, {"id": bounty_id}, token=poster.token)
                                         for _ in range(4)])
        for answer in answers:
            assert answer["data"]["cancelBounty"]["status"] == "CANCELLED", answer
        again = await stack.api.data(CANCEL, {"id": bounty_id}, token=poster.token)
        assert again["cancelBounty"]["escrowStatus"] == "RELEASED"
        assert await stack.entries("escrow_release") == 1
        assert await stack.balance(poster.id) == 10_000
        assert await stack.account(SystemAccount.ESCROW_HOLDS) == 0
        await assert_balanced(stack.wallet_db)
        # A cancelled bounty cannot be published again (its hold is gone).
        refused = await stack.api(PUBLISH, {"id": bounty_id}, token=poster.token)
        assert _codes(refused) == [("CONFLICT", "ILLEGAL_TRANSITION")]
        assert await stack.entries("escrow_hold") == 1


async def test_out_of_order_and_other_peoples_bounties_are_refused_and_write_nothing(
        tmp_path: Path, db: Database) -> None:
    async with bounty_stack(tmp_path, db) as stack:
        api = stack.api
        poster = await register_and_login(api, "owner", "Owner")
        hunter = await register_and_login(api, "hunter", "Hunter")
        mallory = await register_and_login(api, "mallory", "Mallory")
        await fund(stack.wallet_db, poster.id, 10_000)
        bounty_id = await _published(stack, poster.token)
        own = await api(APPLY, {"b": bounty_id, "m": "me"}, token=poster.token)
        assert _codes(own) == [("FORBIDDEN", "OWN_BOUNTY")]
        app_id = (await api.data(APPLY, {"b": bounty_id, "m": "hi"}, token=hunter.token))["applyToBounty"]["id"]
        before, entries = await _rows(db), await stack.entries()

        for query, variables, token, expected in [
            (SUBMIT, {"id": app_id, "t": "done"}, hunter.token, ("CONFLICT", "ILLEGAL_TRANSITION")),
            (APPROVE, {"id": app_id}, poster.token, ("CONFLICT", "ILLEGAL_TRANSITION")),
            (ACCEPT, {"id": app_id}, mallory.token, ("FORBIDDEN", "NOT_POSTER")),
            (CANCEL, {"id": bounty_id}, mallory.token, ("FORBIDDEN", "NOT_POSTER")),
        ]:
            assert _codes(await api(query, variables, token=token)) == [expected], query
        assert await _rows(db) == before and await stack.entries() == entries

        await api.data(ACCEPT, {"id": app_id}, token=poster.token)
        await api.data(SUBMIT, {"id": app_id, "t": "done"}, token=hunter.token)
        before = await _rows(db)
        stolen = await api(APPROVE, {"id": app_id}, token=mallory.token)
        assert _codes(stolen) == [("FORBIDDEN", "NOT_POSTER")]
        late_cancel = await api(CANCEL, {"id": bounty_id}, token=poster.token)
        assert _codes(late_cancel) == [("CONFLICT", "ILLEGAL_TRANSITION")]
        assert await _rows(db) == before and await stack.entries() == entries
        assert await stack.balance(hunter.id) == 0 and await stack.balance(mallory.id) == 0


async def test_attachments_need_content_and_fail_closed_without_it(
        tmp_path: Path, db: Database) -> None:
    async with bounty_stack(tmp_path, db) as stack:
        poster = await register_and_login(stack.api, "attacher", "Attacher")
        before = await _rows(db)
        result = await stack.api(CREATE, {"input": _input(attachmentIds=["m1"])}, token=poster.token)
        assert _codes(result) == [("SERVICE_UNAVAILABLE", None)]
        assert await _rows(db) == before
        bad = await stack.api(CREATE, {"input": _input(reward="-1")}, token=poster.token)
        assert _codes(bad) == [("BAD_USER_INPUT", "INVALID_AMOUNT")]
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        late = await stack.api(CREATE, {"input": _input(deadline=past)}, token=poster.token)
        assert _codes(late) == [("BAD_USER_INPUT", "IN_THE_PAST")]
        assert await _rows(db) == before


async def test_the_stale_job_expires_past_deadline_and_releases_once_with_two_workers(
        tmp_path: Path, db: Database) -> None:
    async with bounty_stack(tmp_path, db) as stack:
        poster = await register_and_login(stack.api, "stale", "Stale")
        hunter = await register_and_login(stack.api, "late", "Late")
        await fund(stack.wallet_db, poster.id, 20_000)
        due = await _published(stack, poster.token)
        taken = await _published(stack, poster.token)
        app_id = (await stack.api.data(APPLY, {"b": taken, "m": "mine"}, token=hunter.token))["applyToBounty"]["id"]
        await stack.api.data(ACCEPT, {"id": app_id}, token=poster.token)
        assert await stack.balance(poster.id) == 10_000

        client = stack.markets.app.state.markets_peers.client
        later = datetime.now(UTC) + timedelta(days=8)
        counts = await asyncio.gather(
            expire_due(database=db, client=client, now=later),
            expire_due(database=db, client=client, now=later))
        assert sorted(counts) == [0, 1]
        assert await expire_due(database=db, client=client, now=later) == 0
        seen = (await stack.api.data(READ, {"id": due}, token=poster.token))["bounty"]
        assert (seen["status"], seen["escrowStatus"]) == ("EXPIRED", "RELEASED")
        # The bounty in progress is not expired: its hunter is working.
        working = (await stack.api.data(READ, {"id": taken}, token=poster.token))["bounty"]
        assert working["status"] == "IN_PROGRESS"
        assert await stack.entries("escrow_release") == 1
        assert await stack.balance(poster.id) == 15_000
        await assert_balanced(stack.wallet_db)
