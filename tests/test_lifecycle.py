"""Which staff action is allowed from which status, and what it leads to."""

from __future__ import annotations

import pytest

from socialbot.domain import CaseStatus
from socialbot.errors import TransitionRefused
from socialbot.lifecycle import Action, next_status

S = CaseStatus
# (action, from) → to, for every allowed pair; every pair not listed must be refused.
ALLOWED = {
    (Action.ACK, S.NEW): S.ACKNOWLEDGED,
    (Action.ACK, S.NEEDS_LOCATION): S.ACKNOWLEDGED,
    (Action.START, S.NEW): S.IN_PROGRESS,
    (Action.START, S.NEEDS_LOCATION): S.IN_PROGRESS,
    (Action.START, S.ACKNOWLEDGED): S.IN_PROGRESS,
    **{
        (Action.RESOLVE, s): S.RESOLVED
        for s in (S.NEW, S.NEEDS_LOCATION, S.ACKNOWLEDGED, S.IN_PROGRESS)
    },
    **{
        (Action.CLOSE, s): S.CLOSED
        for s in (S.NEW, S.NEEDS_LOCATION, S.ACKNOWLEDGED, S.IN_PROGRESS)
    },
    **{(Action.ASSIGN, s): s for s in (S.NEW, S.NEEDS_LOCATION, S.ACKNOWLEDGED, S.IN_PROGRESS)},
    **{(Action.NOTE, s): s for s in S},
    (Action.REOPEN, S.RESOLVED): S.IN_PROGRESS,
    (Action.REOPEN, S.CLOSED): S.IN_PROGRESS,
}
EVERY_PAIR = [(a, s) for a in Action for s in S]


@pytest.mark.parametrize(("action", "status"), [p for p in EVERY_PAIR if p in ALLOWED])
def test_allowed(action: Action, status: CaseStatus) -> None:
    assert next_status(7, status, action) is ALLOWED[(action, status)]


@pytest.mark.parametrize(("action", "status"), [p for p in EVERY_PAIR if p not in ALLOWED])
def test_refused(action: Action, status: CaseStatus) -> None:
    with pytest.raises(
        TransitionRefused, match=rf"^case #7 is {status.value}; `{action.value}` needs"
    ):
        next_status(7, status, action)


def test_the_refusal_says_what_would_be_allowed() -> None:
    with pytest.raises(TransitionRefused) as err:
        next_status(12, S.CLOSED, Action.RESOLVE)
    assert str(err.value) == (
        "case #12 is closed; "
        "`resolve` needs a case that is new, needs_location, acknowledged, in_progress"
    )
