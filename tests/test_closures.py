"""Snow days: a day the city closes moves the due time of the open cases it concerns, and of every
case filed after; opening it again moves them back. Who closed it and why is in each moved case's
history, and the web service's kept answers see the change.

A pothole is due in 3 business days. Reported on Wednesday 25 November 2026 at 10:00 in Boston it
skips Thanksgiving (Thu 26) and the weekend: due by the end of Tuesday 1 December."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from socialbot import closures
from socialbot.closures import Change, DayKind
from socialbot.config import Settings
from socialbot.errors import CalendarError
from socialbot.lifecycle import Action
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import Case, CaseEvent, ClosedDay
from socialbot.web import reads
from tests.conftest import Clock
from tests.test_duplicates import LIBRARY, City, north

WEDNESDAY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in Boston
TUESDAY_NIGHT = datetime(2026, 12, 2, 4, 59, 59, tzinfo=UTC)  # 23:59:59 EST, Tue 1 December
WEDNESDAY_NIGHT = datetime(2026, 12, 3, 4, 59, 59, tzinfo=UTC)
MONDAY = date(2026, 11, 30)


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    city = City(settings, Clock(WEDNESDAY), timezone="America/New_York", backfill_hours=24 * 365)
    yield city
    city.service.close()


def close(city: City, *days: date, reason: str = "snow storm") -> Change:
    service = city.service
    assert service.calendar is not None
    return closures.close(
        service.engine,
        service.calendar,
        service.catalog,
        list(days),
        reason=reason,
        actor="J. Rivera",
        now=city.clock(),
    )


def reopen(city: City, *days: date) -> Change:
    service = city.service
    assert service.calendar is not None
    return closures.reopen(
        service.engine,
        service.calendar,
        service.catalog,
        list(days),
        actor="A. Chen",
        now=city.clock(),
    )


def due_times(city: City) -> list[datetime | None]:
    return [case.due_at for case in city.cases()]


def history(city: City, case_id: int) -> list[tuple[str, str]]:
    with transaction(city.service.engine) as session:
        events = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
        ).all()
        return [(e.actor, e.note) for e in events]


def test_a_snow_day_moves_an_open_case_due_after_it_and_its_history_says_who_and_why(
    city: City,
) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    assert due_times(city) == [TUESDAY_NIGHT]
    city.clock.advance(days=5)  # Monday morning: the storm

    change = close(city, MONDAY)

    assert change.changed == (MONDAY,) and change.not_business_days == ()
    assert [(m.case_id, m.was, m.now) for m in change.moved] == [
        (1, TUESDAY_NIGHT, WEDNESDAY_NIGHT)
    ]
    assert due_times(city) == [WEDNESDAY_NIGHT]
    assert history(city, 1)[-1] == (
        "J. Rivera",
        "due Tue 2026-12-01 → Wed 2026-12-02: 2026-11-30 closed: snow storm",
    )


def test_opening_the_day_again_moves_it_back_and_keeps_the_closure_on_record(
    city: City,
) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    close(city, MONDAY)
    change = reopen(city, MONDAY)

    assert change.changed == (MONDAY,) and [m.now for m in change.moved] == [TUESDAY_NIGHT]
    assert due_times(city) == [TUESDAY_NIGHT]
    assert history(city, 1)[-1] == (
        "A. Chen",
        "due Wed 2026-12-02 → Tue 2026-12-01: 2026-11-30 open again",
    )
    with transaction(city.service.engine) as session:
        (row,) = session.exec(select(ClosedDay)).all()
        assert (row.closed_by, row.reason, row.opened_by) == ("J. Rivera", "snow storm", "A. Chen")


def test_a_case_filed_after_a_closure_is_due_after_it(city: City) -> None:
    close(city, MONDAY)
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    assert due_times(city) == [WEDNESDAY_NIGHT]


def test_a_closure_moves_no_case_it_does_not_concern(city: City) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)  # due Tuesday night
    city.report("@DemoCity311 #trafficsignal dark at the corner", north(LIBRARY, 500))  # 4 hours
    city.report("@DemoCity311 #pothole on Dartmouth St", north(LIBRARY, 900))
    staff = city.service.staff
    staff.act(Request(3, Action.RESOLVE, "J. Rivera"), city.clock())
    before = due_times(city)

    assert close(city, date(2026, 12, 3)).moved == ()  # after the due day
    weekend = close(city, date(2026, 11, 28), date(2026, 11, 29))
    assert weekend.moved == ()
    assert weekend.not_business_days == (
        (date(2026, 11, 28), "a Saturday"),
        (date(2026, 11, 29), "a Sunday"),
    )
    holiday = close(city, date(2026, 11, 26))
    assert holiday.not_business_days == ((date(2026, 11, 26), "Thanksgiving Day"),)
    assert holiday.moved == ()

    moved = close(city, MONDAY).moved  # the pothole still open moves; 4 hours and resolved do not
    assert [m.case_id for m in moved] == [1]
    after = due_times(city)
    assert after[0] == WEDNESDAY_NIGHT and after[1:] == before[1:]


def test_a_day_closed_twice_or_opened_unclosed_is_one_line_saying_what_to_do(
    city: City,
) -> None:
    close(city, MONDAY)
    with pytest.raises(CalendarError) as twice:
        close(city, MONDAY, reason="ice")
    assert str(twice.value) == (
        "2026-11-30 is already closed (snow storm, by J. Rivera on 2026-11-25 10:00 EST); "
        "`socialbot calendar open` it first to change the reason"
    )
    with pytest.raises(CalendarError) as unclosed:
        reopen(city, date(2026, 12, 1))
    assert str(unclosed.value) == (
        "2026-12-01 is not closed; `socialbot calendar list --from DATE` shows the days that are"
    )


def test_a_range_closes_the_days_not_closed_yet_and_says_which_it_left(city: City) -> None:
    close(city, MONDAY)
    change = close(city, *closures.days_of(MONDAY, date(2026, 12, 2), date(2026, 11, 25)))
    assert change.changed == (date(2026, 12, 1), date(2026, 12, 2))
    assert change.left == (MONDAY,)
    listed = closures.upcoming(city.service.engine, _calendar(city), date(2026, 11, 25), weeks=1)
    assert [(d.day, d.kind, d.why) for d in listed] == [
        (date(2026, 11, 26), DayKind.HOLIDAY, "Thanksgiving Day"),
        (MONDAY, DayKind.CLOSED, "snow storm"),
        (date(2026, 12, 1), DayKind.CLOSED, "snow storm"),
        (date(2026, 12, 2), DayKind.CLOSED, "snow storm"),
    ]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-11-31", None, "DATE '2026-11-31' is not a date: write it as YYYY-MM-DD"),
        ("30/11/2026", None, "DATE '30/11/2026' is not a date: write it as YYYY-MM-DD"),
        ("2026-12-02", "2026-11-30", "2026-11-30 is before 2026-12-02: give the first day"),
        ("2026-12-01", "2027-01-15", "2026-12-01 to 2027-01-15 is 46 days; one command"),
        ("2028-11-30", None, "2028-11-30 is more than a year from today (2026-11-25)"),
    ],
)
def test_a_bad_day_or_range_is_one_line(first: str, last: str | None, message: str) -> None:
    with pytest.raises(CalendarError) as err:
        start = closures.parse_day(first)
        closures.days_of(start, closures.parse_day(last) if last else None, date(2026, 11, 25))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_moved_due_time_changes_what_the_web_service_kept(city: City) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    engine = city.service.engine
    mark = reads.change_mark(engine)
    assert close(city, date(2026, 12, 3)).moved == ()
    assert reads.change_mark(engine) == mark  # nothing it shows changed
    close(city, MONDAY)
    assert reads.change_mark(engine) != mark
    shown = reads.read_case(engine, 1, show_words=False)
    assert shown is not None and shown.expected_at == WEDNESDAY_NIGHT


def test_on_postgresql_intake_holds_the_closures_while_it_files(city: City) -> None:
    """A page's transaction holds `closed_days` in SHARE mode from the moment it reads it: a
    closure waits for the page's cases to be committed, then moves them too."""
    engine = city.service.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write transactions are one at a time (BEGIN IMMEDIATE)")
    with transaction(engine, commit=False) as session:
        closures.calendar_in(session, _calendar(city), city.clock())
        modes = session.execute(
            text(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND relation = 'closed_days'::regclass"
            )
        ).scalars()
        assert "ShareLock" in set(modes)


def _calendar(city: City) -> closures.BusinessCalendar:
    assert city.service.calendar is not None
    return city.service.calendar


def test_cases_keep_a_due_time_their_category_no_longer_has(city: City) -> None:
    """A case of a category the city has since removed keeps its due time."""
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    with transaction(city.service.engine) as session:
        case = session.get(Case, 1)
        assert case is not None
        case.category = "retired_category"
    assert close(city, MONDAY).moved == ()
    assert due_times(city) == [TUESDAY_NIGHT]
