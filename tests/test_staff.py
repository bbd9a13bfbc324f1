"""Staff work a day's cases; residents hear back in their own thread, exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from socialbot.app import Service, build_staff
from socialbot.config import Settings
from socialbot.domain import CaseStatus
from socialbot.errors import SocialbotError, TransitionRefused
from socialbot.lifecycle import Action, CloseReason
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import send_once
from socialbot.staff import Done, Request, Staff, requests_from_csv
from socialbot.store.queries import get_case, outbox_rows
from tests import xapi
from tests.city import filed
from tests.conftest import Clock

AT = (42.35, -71.06)
ELSEWHERE = (42.353, -71.06)


@pytest.fixture
def city(settings: Settings, clock: Clock) -> Iterator[tuple[Service, ReplayPlatform]]:
    """Three reports already filed: #1 pothole (en), #2 bache (es), #3 graffiti (en)."""
    platform = ReplayPlatform(
        xapi.CITY_ID,
        [
            xapi.page(
                [
                    xapi.tweet(1, "@DemoCity311 #pothole", coordinates=AT),
                    # Another pothole, three blocks away: a case of its own.
                    xapi.tweet(2, "@DemoCity311 un #bache", lang="es", coordinates=ELSEWHERE),
                    xapi.tweet(3, "@DemoCity311 #graffiti", coordinates=AT),
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


def act(staff: Staff, clock: Clock, case_id: int, action: Action, **details: object) -> Done:
    return staff.act(Request(case_id, action, "J. Rivera", **details), clock())  # type: ignore[arg-type]


def test_resolve_replies_once_in_the_residents_thread(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    service, platform = city
    act(staff, clock, 1, Action.ACK)
    act(staff, clock, 1, Action.START)
    done = act(staff, clock, 1, Action.RESOLVE, note="filled with hot asphalt")

    assert (done.from_status, done.to_status) == (CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED)
    send_once(service.outbox, clock)
    send_once(service.outbox, clock)

    (post,) = platform.posted  # ack and start do not notify by default; resolve does, once
    assert post.in_reply_to == xapi.post_id(1)
    # Every row to one person names them, on every network: the filed reply and this one.
    filed, resolved = [r for r in outbox_rows(service.engine) if r.case_id == 1]
    assert filed.recipient == resolved.recipient == "2001"  # the author of post 1
    assert (
        post.text
        == "Good news: the crew has filled the pothole from case #1. Thank you for reporting it!"
    )


def test_the_history_records_who_when_and_what(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    act(staff, clock, 3, Action.ACK)
    clock.advance(hours=2)
    act(staff, clock, 3, Action.NOTE, note="crew says Tuesday")
    act(staff, clock, 3, Action.ASSIGN, department="Public Works – Graffiti Unit")

    detail = get_case(staff.engine, 3)
    assert detail is not None
    history = [(e.actor, e.from_status, e.to_status, e.note) for e in detail.events]
    assert history == [
        ("socialbot", None, "new", "#graffiti"),
        ("J. Rivera", "new", "acknowledged", ""),
        ("J. Rivera", "acknowledged", "acknowledged", "crew says Tuesday"),
        (
            "J. Rivera",
            "acknowledged",
            "acknowledged",
            "assigned to Public Works – Graffiti Unit (was Property Management – Graffiti Removal)",
        ),
    ]
    assert detail.events[2].at - detail.events[1].at == timedelta(hours=2)
    assert detail.case.department == "Public Works – Graffiti Unit"


def test_internal_notes_are_never_posted(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    service, platform = city
    act(staff, clock, 1, Action.NOTE, note="resident is the councillor's neighbour")
    send_once(service.outbox, clock)
    assert platform.posted == []


def test_spanish_cases_get_spanish_replies(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    done = act(staff, clock, 2, Action.RESOLVE)
    assert (
        done.reply_text
        == "Buenas noticias: el equipo rellenó el bache del caso #2. ¡Gracias por reportarlo!"
    )


@pytest.mark.parametrize(
    ("reason", "of", "expected"),
    [
        (CloseReason.DUPLICATE, 1, "was already reported as case #1"),
        (CloseReason.REFERRED, None, "handled by another agency"),
        (CloseReason.INVALID, None, "could not confirm a problem"),
        (CloseReason.NOT_CITY_PROPERTY, None, "property the city does not maintain"),
    ],
)
def test_each_close_reason_has_its_reply(
    city: tuple[Service, ReplayPlatform],
    staff: Staff,
    clock: Clock,
    reason: CloseReason,
    of: int | None,
    expected: str,
) -> None:
    done = act(staff, clock, 3, Action.CLOSE, reason=reason, duplicate_of=of)
    assert (
        done.to_status is CaseStatus.CLOSED
        and done.reply_text is not None
        and expected in done.reply_text
    )
    detail = get_case(staff.engine, 3)
    assert detail is not None and (detail.case.close_reason, detail.case.duplicate_of) == (
        reason.value,
        of,
    )


def test_reopen_clears_the_close_and_a_second_resolve_tells_the_resident_again(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    service, platform = city
    act(staff, clock, 1, Action.CLOSE, reason=CloseReason.INVALID)
    send_once(service.outbox, clock)  # the resident is told it was closed
    act(staff, clock, 1, Action.REOPEN, note="resident sent a new photo")
    act(staff, clock, 1, Action.RESOLVE)
    send_once(service.outbox, clock)

    detail = get_case(staff.engine, 1)
    assert detail is not None and detail.case.close_reason is None
    assert [p.text.split(":")[0] for p in platform.posted] == [
        "Case #1 (Pothole) has been closed",
        "Good news",
    ]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (Request(9, Action.RESOLVE, "x"), "case #9 does not exist"),
        (Request(1, Action.CLOSE, "x"), "case #1: `close` needs --reason"),
        (
            Request(1, Action.CLOSE, "x", reason=CloseReason.DUPLICATE),
            "case #1: a duplicate needs --of M",
        ),
        (
            Request(1, Action.CLOSE, "x", reason=CloseReason.DUPLICATE, duplicate_of=1),
            "case #1 cannot be a duplicate of itself",
        ),
        (
            Request(1, Action.CLOSE, "x", reason=CloseReason.DUPLICATE, duplicate_of=42),
            "--of 42: no such case",
        ),
        (Request(1, Action.ASSIGN, "x"), "case #1: `assign` needs --to DEPARTMENT"),
        (Request(1, Action.NOTE, "x", note="  "), "case #1: a note needs some text"),
        (
            Request(1, Action.REOPEN, "x"),
            "case #1 is new; `reopen` needs a case that is resolved, closed",
        ),
    ],
)
def test_refusals_change_nothing(
    city: tuple[Service, ReplayPlatform],
    staff: Staff,
    clock: Clock,
    request_: Request,
    message: str,
) -> None:
    before = [(r.id, r.state) for r in outbox_rows(staff.engine)]
    with pytest.raises(SocialbotError, match=message.replace("(", r"\(").replace(")", r"\)")):
        staff.act(request_, clock())
    assert [(r.id, r.state) for r in outbox_rows(staff.engine)] == before
    detail = get_case(staff.engine, 1)
    assert detail is not None and detail.case.status is CaseStatus.NEW and len(detail.events) == 1


def test_which_changes_notify_is_configurable(
    settings: Settings, city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    staff = build_staff(settings.model_copy(update={"notify_on": "acknowledged,in_progress"}))
    assert act(staff, clock, 1, Action.ACK).reply_text == (
        "Case #1 (Pothole) has been reviewed and sent to the crew."
    )
    assert act(staff, clock, 1, Action.START).reply_text is not None
    assert act(staff, clock, 1, Action.RESOLVE).reply_text is None
    staff.engine.dispose()


def test_bulk_resolve_from_csv_goes_past_bad_rows(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock, tmp_path: Path
) -> None:
    sheet = tmp_path / "done-today.csv"
    sheet.write_text("id,note\n1,filled\nabc,typo\n#3,scrubbed\n3,again\n", encoding="utf-8")

    results = list(staff.act_all(requests_from_csv(sheet, Action.RESOLVE, "crew 4"), clock))

    assert [type(r).__name__ for r in results] == [
        "Done",
        "SocialbotError",
        "Done",
        "TransitionRefused",
    ]
    assert str(results[1]) == f"{sheet}:3: id 'abc' is not a case number"
    assert isinstance(results[3], TransitionRefused)
    assert [
        c
        for c in (1, 2, 3)
        if (d := get_case(staff.engine, c)) and d.case.status is CaseStatus.RESOLVED
    ] == [1, 3]


def test_a_csv_without_an_id_column_is_named(tmp_path: Path) -> None:
    sheet = tmp_path / "done.csv"
    sheet.write_text("case,note\n1,x\n", encoding="utf-8")
    with pytest.raises(
        SocialbotError, match=r"done\.csv:1: needs a header row with an `id` column"
    ):
        requests_from_csv(sheet, Action.RESOLVE, "x")


def test_reopening_before_the_resolved_reply_went_out_means_it_never_goes(
    city: tuple[Service, ReplayPlatform], staff: Staff, clock: Clock
) -> None:
    service, platform = city
    act(staff, clock, 1, Action.RESOLVE)
    act(staff, clock, 1, Action.REOPEN, note="resolved the wrong case")
    send_once(service.outbox, clock)

    assert platform.posted == []
    (superseded,) = [r for r in outbox_rows(staff.engine) if r.template == "resolved"]
    assert superseded.state.value == "failed"
    assert superseded.last_error == "superseded: the case became in_progress before this was sent"
