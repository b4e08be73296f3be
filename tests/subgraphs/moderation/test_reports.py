"""Reports, the review queue and decisions through the schema; identity and social are the real
owners of the reported ids (tests/_peers.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.auth import ANONYMOUS, Caller
from shared.context import RequestContext
from shared.internal import InternalClient
from shared.redis import MemoryStore, create_kv
from shared.references import References
from shared.service_auth import ServiceIdentity
from subgraphs.moderation.config import ModerationSettings
from subgraphs.moderation.models import Report
from subgraphs.moderation.schema import schema
from subgraphs.moderation.services import reports
from tests._peers import peer_stack

REPORT = """mutation($t: SubjectType!, $s: ID!, $r: ReportReason!) {
  reportContent(subjectType: $t, subjectId: $s, reason: $r) { id subjectType subjectId status action } }"""
QUEUE = """query { reviewQueue { id subjectType subjectId reportsCount
  filings { reporterId reason } verdict { action } } }"""
DECIDE = """mutation($id: ID!, $a: ModerationAction!, $n: String) {
  decide(reportId: $id, action: $a, note: $n) { id status action decidedBy } }"""
AUDIT = "query { moderationAuditLog { actorId action reportId subjectType subjectId note } }"
REPORTER_SEES_COUNT = "query { reviewQueue { reportsCount } }"

def references() -> References:
    stack = peer_stack()
    return References(InternalClient(
        ServiceIdentity(name="moderation", keys=stack.keys["moderation"]), stack.urls))


async def run(database, query: str, variables: dict[str, Any] | None = None, *,
              user: str | None = None, roles: tuple[str, ...] = ("USER",)):
    context = RequestContext(
        caller=Caller(user_id=user, roles=frozenset(roles)) if user else ANONYMOUS,
        request_id="test", database=database,
        kv=create_kv(None, prefix="test:moderation:", store=MemoryStore()),
        settings=ModerationSettings(environment="test"), request=None,  # type: ignore[arg-type]
        references=references())
    try:
        result = await schema.execute(query, variable_values=variables, context_value=context)
    finally:
        await context.references.client.close()  # type: ignore[union-attr]
    errors = [{"code": (e.extensions or {}).get("code"), "reason": (e.extensions or {}).get("reason")}
              for e in result.errors or ()]
    return result.data, errors


@pytest.fixture
def people():
    """Fresh users and one public post by the first, known to identity and social."""
    ids = [f"m{uuid.uuid4().hex[:10]}" for _ in range(4)]
    stack = peer_stack()
    stack.add_users(*ids)
    post = f"p{uuid.uuid4().hex[:12]}"
    stack.add_posts(post, author_id=ids[0])
    return {"author": ids[0], "ann": ids[1], "ben": ids[2], "mod": ids[3], "post": post}


async def test_two_reports_of_one_post_open_one_case(database, people) -> None:
    first, errors = await run(database, REPORT, {"t": "POST", "s": people["post"], "r": "SPAM"},
                              user=people["ann"])
    assert errors == []
    second, errors = await run(database, REPORT, {"t": "POST", "s": people["post"],
                                                  "r": "HARASSMENT"}, user=people["ben"])
    assert errors == []
    again, _ = await run(database, REPORT, {"t": "POST", "s": people["post"], "r": "OTHER"},
                         user=people["ben"])
    assert first["reportContent"]["id"] == second["reportContent"]["id"] == again["reportContent"]["id"]
    assert first["reportContent"] == {"id": first["reportContent"]["id"], "subjectType": "POST",
                                      "subjectId": people["post"], "status": "OPEN", "action": None}
    queue, errors = await run(database, QUEUE, user=people["mod"], roles=("MODERATOR",))
    assert errors == []
    [case] = queue["reviewQueue"]
    assert case["reportsCount"] == 2
    assert sorted((f["reporterId"], f["reason"]) for f in case["filings"]) == sorted(
        [(people["ann"], "SPAM"), (people["ben"], "HARASSMENT")])
    assert case["verdict"] is None


async def test_reports_name_existing_subjects_only(database, people) -> None:
    for subject_type, subject_id in (("POST", "no-such-post"), ("USER", "no-such-user")):
        data, errors = await run(database, REPORT, {"t": subject_type, "s": subject_id,
                                                    "r": "SPAM"}, user=people["ann"])
        assert data is None and [e["code"] for e in errors] == ["NOT_FOUND"]
    data, errors = await run(database, REPORT, {"t": "COMMENT", "s": "c1", "r": "SPAM"},
                             user=people["ann"])
    assert errors == [{"code": "BAD_USER_INPUT", "reason": "UNSUPPORTED_SUBJECT"}]
    data, errors = await run(database, REPORT, {"t": "USER", "s": people["ann"], "r": "SPAM"},
                             user=people["ann"])
    assert errors == [{"code": "BAD_USER_INPUT", "reason": "SELF_REPORT"}]
    _, errors = await run(database, REPORT, {"t": "USER", "s": people["author"], "r": "SPAM"})
    assert [e["code"] for e in errors] == ["UNAUTHENTICATED"]
    async with database.session() as session:
        assert await reports.queue(session=session, first=10) == []


async def test_the_queue_is_for_moderators_and_admins(database, people) -> None:
    await run(database, REPORT, {"t": "USER", "s": people["author"], "r": "SCAM"}, user=people["ann"])
    data, errors = await run(database, QUEUE, user=people["ann"])
    assert data is None and [e["code"] for e in errors] == ["FORBIDDEN"]
    _, errors = await run(database, QUEUE)
    assert [e["code"] for e in errors] == ["UNAUTHENTICATED"]
    for role in ("MODERATOR", "ADMIN"):
        data, errors = await run(database, QUEUE, user=people["mod"], roles=(role,))
        assert errors == [] and [c["subjectId"] for c in data["reviewQueue"]] == [people["author"]]


async def test_a_decision_closes_the_case_and_is_audited(database, people) -> None:
    filed, _ = await run(database, REPORT, {"t": "POST", "s": people["post"], "r": "HATE"},
                         user=people["ann"])
    report_id = filed["reportContent"]["id"]
    _, errors = await run(database, DECIDE, {"id": report_id, "a": "REMOVE"}, user=people["ann"])
    assert [e["code"] for e in errors] == ["FORBIDDEN"]
    decided, errors = await run(database, DECIDE, {"id": report_id, "a": "REMOVE", "n": "slur"},
                                user=people["mod"], roles=("MODERATOR",))
    assert errors == []
    assert decided["decide"] == {"id": report_id, "status": "DECIDED", "action": "REMOVE",
                                 "decidedBy": people["mod"]}
    _, errors = await run(database, DECIDE, {"id": report_id, "a": "DISMISS"},
                          user=people["mod"], roles=("ADMIN",))
    assert errors == [{"code": "CONFLICT", "reason": "ALREADY_DECIDED"}]
    _, errors = await run(database, DECIDE, {"id": "nope", "a": "DISMISS"},
                          user=people["mod"], roles=("ADMIN",))
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    queue, _ = await run(database, QUEUE, user=people["mod"], roles=("MODERATOR",))
    assert queue["reviewQueue"] == []
    # The reporter sees the outcome on its next report of the subject: a new case, still open.
    refiled, _ = await run(database, REPORT, {"t": "POST", "s": people["post"], "r": "HATE"},
                           user=people["ben"])
    assert refiled["reportContent"]["id"] != report_id
    audit, errors = await run(database, AUDIT, user=people["mod"], roles=("MODERATOR",))
    assert [e["code"] for e in errors] == ["FORBIDDEN"]
    audit, errors = await run(database, AUDIT, user=people["mod"], roles=("ADMIN",))
    assert errors == []
    assert audit["moderationAuditLog"] == [{
        "actorId": people["mod"], "action": "REMOVE", "reportId": report_id,
        "subjectType": "POST", "subjectId": people["post"], "note": "slur"}]


async def test_reporters_do_not_see_case_details(database, people) -> None:
    filed, _ = await run(database, REPORT, {"t": "POST", "s": people["post"], "r": "SPAM"},
                         user=people["ann"])
    query = "mutation($s: ID!) { reportContent(subjectType: POST, subjectId: $s, reason: SPAM) { reportsCount } }"
    _, errors = await run(database, query, {"s": people["post"]}, user=people["ben"])
    assert [e["code"] for e in errors] == ["FORBIDDEN"]
    async with database.session() as session:
        row = await session.get(Report, filed["reportContent"]["id"])
    assert row is not None and row.reports_count == 2  # the report itself was filed


async def test_reports_at_the_same_moment_still_open_one_case(database, people) -> None:
    import asyncio

    reporters = [f"r{uuid.uuid4().hex[:10]}" for _ in range(6)]
    peer_stack().add_users(*reporters)
    answers = await asyncio.gather(*(
        run(database, REPORT, {"t": "USER", "s": people["author"], "r": "SPAM"}, user=r)
        for r in reporters))
    assert [errors for _, errors in answers] == [[]] * len(reporters)
    assert len({data["reportContent"]["id"] for data, _ in answers}) == 1
    queue, _ = await run(database, QUEUE, user=people["mod"], roles=("MODERATOR",))
    assert [c["reportsCount"] for c in queue["reviewQueue"]] == [len(reporters)]
