"""What a CRM's status asks of our case: FixMyStreet's extended statuses and plain open/closed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.domain import CaseStatus
from socialbot.lifecycle import Action, CloseReason
from socialbot.open311 import statuses, wire
from socialbot.open311.statuses import Closure, applies, closure_of
from socialbot.open311.wire import RequestState


def state(status: str = "open", extended: str | None = None) -> RequestState:
    return RequestState("1", status, extended, None, None, None, None, None)


@pytest.mark.parametrize(
    ("extended", "status", "expected"),
    [
        ("FIXED", "closed", Closure(Action.RESOLVE)),
        ("CLOSED", "closed", Closure(Action.RESOLVE)),
        ("DUPLICATE", "closed", Closure(Action.CLOSE, CloseReason.DUPLICATE)),
        (
            "NOT_COUNCILS_RESPONSIBILITY",
            "closed",
            Closure(Action.CLOSE, CloseReason.NOT_CITY_PROPERTY),
        ),
        ("NOT_RESPONSIBLE", "closed", Closure(Action.CLOSE, CloseReason.NOT_CITY_PROPERTY)),
        ("INTERNAL_REFERRAL", "closed", Closure(Action.CLOSE, CloseReason.REFERRED)),
        ("NO_FURTHER_ACTION", "closed", Closure(Action.CLOSE, CloseReason.INVALID)),
        ("UNABLE_TO_FIX", "closed", Closure(Action.CLOSE, CloseReason.INVALID)),
        ("IN_PROGRESS", "open", Closure(Action.START)),
        ("ACTION_SCHEDULED", "open", Closure(Action.START)),
        ("PLANNED", "open", Closure(Action.START)),
        ("INVESTIGATING", "open", Closure(Action.ACK)),
        ("REOPEN", "open", Closure(Action.REOPEN)),
        ("OPEN", "open", None),
        ("CONFIRMED", "open", None),
        ("FIXED_COUNCIL", "closed", Closure(Action.RESOLVE)),
    ],
)
def test_extended_status_table(extended: str, status: str, expected: Closure | None) -> None:
    assert statuses.plain_status(extended) == status
    assert closure_of(state(status, extended)) == expected


def test_every_extended_status_is_in_the_table_once_with_its_plain_status() -> None:
    assert set(statuses.EXTENDED) >= {
        "FIXED", "IN_PROGRESS", "ACTION_SCHEDULED", "DUPLICATE", "NOT_COUNCILS_RESPONSIBILITY",
        "NO_FURTHER_ACTION", "CLOSED", "REOPEN", "INTERNAL_REFERRAL", "INVESTIGATING", "OPEN",
    }  # fmt: skip
    for word, (plain, closure) in statuses.EXTENDED.items():
        assert plain in ("open", "closed"), word
        # a closed status always finishes the case; an open one never does
        finishes = closure is not None and closure.action in (Action.RESOLVE, Action.CLOSE)
        assert finishes == (plain == "closed"), word
        if closure is not None and closure.action is Action.CLOSE:
            assert closure.reason is not None, word
    assert all(target in statuses.EXTENDED for target in statuses.ALIASES.values())


def test_plain_open_and_closed() -> None:
    assert closure_of(state("open")) is None
    assert closure_of(state("closed")) == Closure(Action.RESOLVE)


def test_an_unknown_extended_word_falls_back_to_open_or_closed() -> None:
    assert closure_of(state("closed", "ARCHIVED_BY_ROBOT")) == Closure(Action.RESOLVE)
    assert closure_of(state("open", "WAITING_FOR_PARTS")) is None
    assert statuses.plain_status("WAITING_FOR_PARTS") is None


def test_the_extended_status_decides_over_the_plain_one() -> None:
    # A CRM writing "closed" with FixMyStreet's "not responsible" closes for that reason.
    assert closure_of(state("closed", "NOT_COUNCILS_RESPONSIBILITY")) == Closure(
        Action.CLOSE, CloseReason.NOT_CITY_PROPERTY
    )


def test_statuses_read_off_the_wire() -> None:
    body = (
        b"<service_requests><request><service_request_id>9</service_request_id>"
        b"<status>Not councils responsibility</status></request></service_requests>"
    )
    (read,) = wire.parse_requests(body, "xml").states
    assert closure_of(read) == Closure(Action.CLOSE, CloseReason.NOT_CITY_PROPERTY)


@pytest.mark.parametrize(
    ("closure", "status", "expected"),
    [
        (Closure(Action.RESOLVE), CaseStatus.NEW, True),
        (Closure(Action.RESOLVE), CaseStatus.IN_PROGRESS, True),
        (Closure(Action.RESOLVE), CaseStatus.RESOLVED, False),  # told once, not each sync
        (Closure(Action.START), CaseStatus.IN_PROGRESS, False),
        (Closure(Action.START), CaseStatus.ACKNOWLEDGED, True),
        (Closure(Action.ACK), CaseStatus.IN_PROGRESS, False),  # never backwards
        (Closure(Action.REOPEN), CaseStatus.RESOLVED, True),
        (Closure(Action.REOPEN), CaseStatus.IN_PROGRESS, False),
        (Closure(Action.CLOSE, CloseReason.REFERRED), CaseStatus.NEEDS_LOCATION, True),
        (Closure(Action.CLOSE, CloseReason.REFERRED), CaseStatus.CLOSED, False),
    ],
)
def test_applies_only_when_the_case_would_move(
    closure: Closure, status: CaseStatus, expected: bool
) -> None:
    assert applies(closure, status) is expected


@given(
    status=st.text(max_size=30) | st.sampled_from(["open", "closed"]),
    extended=st.none() | st.text(max_size=30) | st.sampled_from(sorted(statuses.EXTENDED)),
)
def test_fuzz_closure_of_never_raises(status: str, extended: str | None) -> None:
    closure = closure_of(state(status, extended))
    assert closure is None or isinstance(closure.action, Action)
