r"""The one table of bounty and application states: every status change is looked up here.

    DRAFT --publish--> OPEN --accept--> IN_PROGRESS --submit--> SUBMITTED --complete--> COMPLETED
      |                  |  \--expire--> EXPIRED        ^   |         |
      +--cancel--+-------+                             |   +--review-+ (changes requested, or
                 v                                     |             |  one of several winners
             CANCELLED           IN_PROGRESS, SUBMITTED --dispute--> DISPUTED   approved)

A write looks its transition up with `next_status` before it changes anything: an action the
table does not list for the current status is a CONFLICT with reason ILLEGAL_TRANSITION.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from shared.errors import ConflictError

__all__ = ["APPLICATION_TRANSITIONS", "BOUNTY_TRANSITIONS", "ApplicationStatus", "BountyStatus",
           "next_application_status", "next_status"]


class BountyStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    SUBMITTED = "SUBMITTED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    DISPUTED = "DISPUTED"


class ApplicationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"


B = BountyStatus
# (status, action) -> next status. `accept` and `submit` may repeat for multi-winner bounties;
# `review` is a submission answered without completing the bounty (changes requested, or one
# winner of several approved): it goes back to IN_PROGRESS or stays SUBMITTED, as the service
# decides from the other winners' submissions, and only among the statuses listed here.
BOUNTY_TRANSITIONS: Mapping[tuple[BountyStatus, str], frozenset[BountyStatus]] = MappingProxyType({
    (B.DRAFT, "publish"): frozenset({B.OPEN}),
    (B.DRAFT, "cancel"): frozenset({B.CANCELLED}),
    (B.OPEN, "cancel"): frozenset({B.CANCELLED}),
    (B.OPEN, "expire"): frozenset({B.EXPIRED}),
    (B.OPEN, "accept"): frozenset({B.IN_PROGRESS}),
    (B.IN_PROGRESS, "accept"): frozenset({B.IN_PROGRESS}),
    (B.IN_PROGRESS, "submit"): frozenset({B.SUBMITTED}),
    (B.SUBMITTED, "submit"): frozenset({B.SUBMITTED}),
    (B.SUBMITTED, "review"): frozenset({B.SUBMITTED, B.IN_PROGRESS}),
    (B.SUBMITTED, "complete"): frozenset({B.COMPLETED}),
    (B.IN_PROGRESS, "dispute"): frozenset({B.DISPUTED}),
    (B.SUBMITTED, "dispute"): frozenset({B.DISPUTED}),
})

A = ApplicationStatus
APPLICATION_TRANSITIONS: Mapping[tuple[ApplicationStatus, str], ApplicationStatus] = MappingProxyType({
    (A.PENDING, "accept"): A.ACCEPTED,
    (A.PENDING, "decline"): A.DECLINED,
    (A.ACCEPTED, "submit"): A.SUBMITTED,
    (A.SUBMITTED, "request_changes"): A.ACCEPTED,
    (A.SUBMITTED, "approve"): A.APPROVED,
})


def _illegal(kind: str, status: str, action: str) -> ConflictError:
    return ConflictError(f"A {kind} that is {status} cannot {action.replace('_', ' ')}",
                         extensions={"reason": "ILLEGAL_TRANSITION", "status": status,
                                     "action": action})


def next_status(status: str, action: str, *, choose: BountyStatus | None = None) -> BountyStatus:
    """The bounty's status after `action`; `choose` picks one where the table allows several."""
    allowed = BOUNTY_TRANSITIONS.get((BountyStatus(status), action))
    if not allowed:
        raise _illegal("bounty", status, action)
    if choose is None:
        assert len(allowed) == 1, f"{status} --{action}--> is ambiguous: pass choose="
        return next(iter(allowed))
    assert choose in allowed, f"{status} --{action}--> {choose} is not in the table"
    return choose


def next_application_status(status: str, action: str) -> ApplicationStatus:
    found = APPLICATION_TRANSITIONS.get((ApplicationStatus(status), action))
    if found is None:
        raise _illegal("application", status, action)
    return found
