"""Closures (a snow day) in the business-day arithmetic: a due time never lands on a closed day,
a closure never makes a due time earlier, and a due time recounted after a closure is the one the
case would have had with the day closed from the start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.sla import BusinessCalendar, SlaUnit, Target

BOSTON = ZoneInfo("America/New_York")
MA = BusinessCalendar(zone=BOSTON, country="US", subdivision="MA")
FIRST, LAST = date(2026, 11, 1), date(2027, 3, 31)  # holidays, a DST change, a year's turn

opened_at = st.datetimes(
    min_value=datetime(2026, 11, 1), max_value=datetime(2027, 2, 28), timezones=st.just(UTC)
)
targets = st.integers(min_value=1, max_value=15).map(lambda n: Target(n, SlaUnit.BUSINESS_DAYS))
days = st.dates(min_value=FIRST, max_value=LAST)
closed = st.frozensets(days, max_size=12)


def local_day(moment: datetime) -> date:
    return moment.astimezone(BOSTON).date()


def test_a_snow_day_before_the_due_day_gives_one_business_day_more() -> None:
    # Tuesday 22 December 2026, 10:00 in Boston, 3 business days: Wed 23, Thu 24, (Christmas),
    # (weekend), Mon 28. The city closes on Thursday 24 for a storm: due Tuesday 29.
    opened = datetime(2026, 12, 22, 15, 0, tzinfo=UTC)
    target = Target(3, SlaUnit.BUSINESS_DAYS)
    storm = MA.with_closed_days({date(2026, 12, 24)})
    assert local_day(MA.due_at(opened, target)) == date(2026, 12, 28)
    assert local_day(storm.due_at(opened, target)) == date(2026, 12, 29)
    assert storm.recount(opened, MA.due_at(opened, target), MA) == storm.due_at(opened, target)
    assert MA.recount(opened, storm.due_at(opened, target), storm) == MA.due_at(opened, target)


def test_a_report_on_a_snow_day_counts_as_received_on_the_next_business_day() -> None:
    storm = MA.with_closed_days({date(2026, 12, 23)})
    opened = datetime(2026, 12, 23, 14, 0, tzinfo=UTC)  # Wednesday 09:00, the city closed
    assert storm.received_on(opened) == date(2026, 12, 24)
    assert local_day(storm.due_at(opened, Target(1, SlaUnit.BUSINESS_DAYS))) == date(2026, 12, 28)


def test_hours_run_through_a_snow_day() -> None:
    opened = datetime(2026, 12, 23, 14, 0, tzinfo=UTC)
    storm = MA.with_closed_days({date(2026, 12, 23)})
    four_hours = Target(4, SlaUnit.HOURS)
    assert storm.due_at(opened, four_hours) == opened + timedelta(hours=4)


def test_a_calendar_with_closures_shares_the_holiday_table() -> None:
    storm = MA.with_closed_days({date(2026, 12, 24)})
    assert not storm.is_business_day(date(2026, 12, 24)) and MA.is_business_day(date(2026, 12, 24))
    assert storm.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert MA.with_closed_days(()) == MA


@settings(max_examples=300, deadline=None)
@given(opened=opened_at, target=targets, closures=closed)
def test_a_due_time_never_lands_on_a_closed_day(
    opened: datetime, target: Target, closures: frozenset[date]
) -> None:
    calendar = MA.with_closed_days(closures)
    due = calendar.due_at(opened, target)
    assert local_day(due) not in closures
    assert calendar.is_business_day(local_day(due))
    assert due > opened


@settings(max_examples=300, deadline=None)
@given(opened=opened_at, target=targets, closures=closed, extra=days)
def test_adding_a_closure_never_makes_a_due_time_earlier(
    opened: datetime, target: Target, closures: frozenset[date], extra: date
) -> None:
    before = MA.with_closed_days(closures)
    after = MA.with_closed_days(closures | {extra})
    assert after.due_at(opened, target) >= before.due_at(opened, target)


@settings(max_examples=300, deadline=None)
@given(opened=opened_at, target=targets, before=closed, after=closed)
def test_a_recounted_due_time_is_the_one_the_new_calendar_gives(
    opened: datetime, target: Target, before: frozenset[date], after: frozenset[date]
) -> None:
    old, new = MA.with_closed_days(before), MA.with_closed_days(after)
    stored = old.due_at(opened, target)
    assert new.recount(opened, stored, old) == new.due_at(opened, target)
    # and back again: closing a day then opening it leaves the due time as it was
    assert old.recount(opened, new.recount(opened, stored, old), new) == stored
