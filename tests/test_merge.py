"""Staff merge cases that are one problem, and unmerge them; every reporter hears the outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from socialbot.app import Service, build_staff
from socialbot.config import Settings
from socialbot.domain import CaseStatus
from socialbot.errors import SocialbotError, TransitionRefused
from socialbot.lifecycle import Action, CloseReason
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import send_once
from socialbot.staff import Request, Staff
from socialbot.store.queries import get_case
from tests import xapi
from tests.city import filed
from tests.conftest import Clock

# Two reports of one sewer backup, a block apart (further than any duplicate radius).
HERE, A_BLOCK_AWAY = (42.3500, -71.0600), (42.3520, -71.0600)


@pytest.fixture
def city(settings: Settings, clock: Clock) -> Iterator[tuple[Service, ReplayPlatform]]:
    """#1 a pothole reported by 2001 (en), #2 the same pothole reported by 2002 (es)."""
    platform = ReplayPlatform(
        xapi.CITY_ID,
        [
            xapi.page(
                [
                    xapi.tweet(1, "@DemoCity311 #pothole", author="2001", coordinates=HERE),
                    xapi.tweet(
                        2, "@DemoCity311 #bache", author="2002", lang="es", coordinates=A_BLOCK_AWAY
                    ),
                ]
            )
        ],
    )
    service = filed(settings, clock, platform)
    yield service, platform
    service.close()


@pytest.fixture
def staff(settings: Settings, city: tuple[Service, ReplayPlatform]) -> Iterator[Staff]:
    staff = build_staff(settings)
    yield staff
    staff.engine.dispose()


def merge(staff: Staff, clock: Clock, case_id: int, into: int) -> None:
    staff.act(
        Request(case_id, Action.CLOSE, "ana", reason=CloseReason.DUPLICATE, duplicate_of=into),
        clock(),
    )


def count(staff: Staff, case_id: int) -> int:
    detail = get_case(staff.engine, case_id)
    assert detail is not None
    return detail.case.reporter_count


def test_a_merged_reporter_is_counted_and_hears_the_resolution_in_their_own_thread(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    service, platform = city
    merge(staff, clock, 2, into=1)
    assert count(staff, 1) == 2
    send_once(service.outbox, clock)
    (merged_reply,) = platform.posted
    assert merged_reply.in_reply_to == xapi.post_id(2)
    assert "#1" in merged_reply.text  # the duplicate reply names the case it joined
    platform.posted.clear()

    staff.act(Request(1, Action.RESOLVE, "ana"), clock())
    send_once(service.outbox, clock)

    replies = {p.in_reply_to: p.text for p in platform.posted}
    assert set(replies) == {xapi.post_id(1), xapi.post_id(2)}
    assert replies[xapi.post_id(2)].startswith(("¡", "Buenas"))  # in the reporter's language
    assert get_case(staff.engine, 1).case.resolved_at == clock()  # type: ignore[union-attr]


def test_unmerge_gives_the_case_back_its_own_life(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    merge(staff, clock, 2, into=1)
    staff.act(Request(2, Action.REOPEN, "ana", note="different pothole"), clock())

    assert count(staff, 1) == 1
    detail = get_case(staff.engine, 2)
    assert detail is not None
    assert (detail.case.status, detail.case.duplicate_of) == (CaseStatus.IN_PROGRESS, None)
    assert detail.case.closed_at is None


def test_only_a_merged_case_can_be_unmerged(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    staff.act(Request(2, Action.CLOSE, "ana", reason=CloseReason.INVALID), clock())
    with pytest.raises(SocialbotError, match=r"^case #2 was not merged into another case"):
        staff.act(Request(2, Action.REOPEN, "ana", unmerge=True), clock())
    detail = get_case(staff.engine, 2)
    assert detail is not None and detail.case.status is CaseStatus.CLOSED  # left as it was

    staff.act(Request(2, Action.REOPEN, "ana"), clock())
    merge(staff, clock, 2, into=1)
    staff.act(Request(2, Action.REOPEN, "ana", unmerge=True), clock())
    assert count(staff, 1) == 1


def test_a_case_cannot_be_merged_into_a_closed_one(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    staff.act(Request(1, Action.CLOSE, "ana", reason=CloseReason.INVALID), clock())
    with pytest.raises(TransitionRefused, match=r"case #1 is closed; merge into an open case"):
        merge(staff, clock, 2, into=1)
    with pytest.raises(SocialbotError, match=r"--of 9: no such case"):
        merge(staff, clock, 2, into=9)


def notes(staff: Staff, case_id: int) -> list[tuple[str, str | None, str, str]]:
    detail = get_case(staff.engine, case_id)
    assert detail is not None
    return [(e.actor, e.from_status, e.to_status, e.note) for e in detail.events]


def test_merge_and_unmerge_are_in_both_cases_history_with_who_and_why(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    staff.act(
        Request(
            2,
            Action.CLOSE,
            "ana",
            note="same hole, other corner",
            reason=CloseReason.DUPLICATE,
            duplicate_of=1,
        ),
        clock(),
    )
    staff.act(Request(2, Action.REOPEN, "li", note="two holes after all", unmerge=True), clock())

    assert notes(staff, 2)[1:] == [
        ("ana", "new", "closed", "merged into #1: same hole, other corner"),
        ("li", "closed", "in_progress", "unmerged from #1: two holes after all"),
    ]
    assert notes(staff, 1)[1:] == [
        (
            "ana",
            "new",
            "new",
            "#2 merged into this case (reporters 1 → 2): same hole, other corner",
        ),
        ("li", "new", "new", "#2 unmerged from this case (reporters 2 → 1): two holes after all"),
    ]


def test_a_merge_without_a_note_still_says_into_which_case(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    merge(staff, clock, 2, into=1)
    staff.act(Request(2, Action.REOPEN, "ana"), clock())  # a plain reopen undoes the merge too
    assert [note for *_, note in notes(staff, 2)[1:]] == ["merged into #1", "unmerged from #1"]
    assert [note for *_, note in notes(staff, 1)[1:]] == [
        "#2 merged into this case (reporters 1 → 2)",
        "#2 unmerged from this case (reporters 2 → 1)",
    ]
