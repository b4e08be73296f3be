"""The transition table: exactly the listed moves are allowed, each else a coded CONFLICT."""

from __future__ import annotations

import pytest

from shared.errors import ConflictError
from subgraphs.markets.services.transitions import (
    APPLICATION_TRANSITIONS,
    BOUNTY_TRANSITIONS,
    ApplicationStatus,
    BountyStatus,
    next_application_status,
    next_status,
)

ACTIONS = sorted({action for _, action in BOUNTY_TRANSITIONS})


def test_the_documented_path_and_its_side_exits() -> None:
    path = [("DRAFT", "publish", "OPEN"), ("OPEN", "accept", "IN_PROGRESS"),
            ("IN_PROGRESS", "submit", "SUBMITTED"), ("SUBMITTED", "complete", "COMPLETED"),
            ("OPEN", "cancel", "CANCELLED"), ("OPEN", "expire", "EXPIRED"),
            ("SUBMITTED", "dispute", "DISPUTED")]
    for status, action, expected in path:
        assert next_status(status, action) == expected


@pytest.mark.parametrize("status", list(BountyStatus))
def test_every_unlisted_move_is_an_illegal_transition(status: BountyStatus) -> None:
    for action in ACTIONS:
        if (status, action) in BOUNTY_TRANSITIONS:
            continue
        with pytest.raises(ConflictError) as raised:
            next_status(status, action)
        assert raised.value.extensions["reason"] == "ILLEGAL_TRANSITION"


def test_final_states_have_no_way_out() -> None:
    for final in (BountyStatus.COMPLETED, BountyStatus.CANCELLED, BountyStatus.EXPIRED):
        assert not [k for k in BOUNTY_TRANSITIONS if k[0] == final]


def test_applications() -> None:
    assert next_application_status("SUBMITTED", "request_changes") == ApplicationStatus.ACCEPTED
    for status in ApplicationStatus:
        for action in {a for _, a in APPLICATION_TRANSITIONS}:
            if (status, action) not in APPLICATION_TRANSITIONS:
                with pytest.raises(ConflictError):
                    next_application_status(status, action)
