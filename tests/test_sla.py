"""SLA targets and due dates: holiday weekends, Patriots' Day, weekends, daylight saving time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from socialbot.errors import ConfigError
from socialbot.sla import BusinessCalendar, SlaUnit, Target, parse_target

BOSTON = ZoneInfo("America/New_York")
MA = BusinessCalendar(zone=BOSTON, country="US", subdivision="MA")
US = BusinessCalendar(zone=BOSTON, country="US")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A moment in Boston's local time."""
    return datetime(year, month, day, hour, minute, tzinfo=BOSTON)


def end_of_day_utc(day: date, offset_hours: int) -> datetime:
    """23:59:59 local on `day`, in UTC, given Boston's UTC offset that day (-5 EST, -4 EDT)."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC) - timedelta(
        hours=offset_hours
    )


BD1 = Target(1, SlaUnit.BUSINESS_DAYS)
BD2 = Target(2, SlaUnit.BUSINESS_DAYS)
BD3 = Target(3, SlaUnit.BUSINESS_DAYS)


# --- parse_target -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("48 hours", Target(48, SlaUnit.HOURS)),
        ("1 hour", Target(1, SlaUnit.HOURS)),
        ("4hours", Target(4, SlaUnit.HOURS)),
        ("3 business days", Target(3, SlaUnit.BUSINESS_DAYS)),
        ("1 business day", Target(1, SlaUnit.BUSINESS_DAYS)),
        ("  10  Business   Days ", Target(10, SlaUnit.BUSINESS_DAYS)),
        ("2 HOURS", Target(2, SlaUnit.HOURS)),
    ],
)
def test_targets_in_words(text: str, target: Target) -> None:
    assert parse_target(text) == target


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (Target(48, SlaUnit.HOURS), "48 hours"),
        (Target(1, SlaUnit.HOURS), "1 hour"),
        (Target(3, SlaUnit.BUSINESS_DAYS), "3 business days"),
        (Target(1, SlaUnit.BUSINESS_DAYS), "1 business day"),
    ],
)
def test_a_target_reads_back_as_written(target: Target, text: str) -> None:
    assert str(target) == text
    assert parse_target(str(target)) == target


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "3 days",
            "'3 days' is ambiguous: write '3 business days', "
            "or a number of hours for a round-the-clock target",
        ),
        (
            "2 calendar days",
            "'2 calendar days' is ambiguous: write '2 business days', "
            "or a number of hours for a round-the-clock target",
        ),
        (
            "1.5 hours",
            "'1.5 hours': the number must be whole; expected '<n> hours' or '<n> business days', "
            "e.g. '48 hours' or '3 business days'",
        ),
        (
            "3bd",
            "expected '<n> hours' or '<n> business days', e.g. '48 hours' or '3 business days', "
            "got '3bd'",
        ),
        (
            "",
            "expected '<n> hours' or '<n> business days', e.g. '48 hours' or '3 business days', "
            "got ''",
        ),
        (
            "two weeks",
            "expected '<n> hours' or '<n> business days', e.g. '48 hours' or '3 business days', "
            "got 'two weeks'",
        ),
        ("0 hours", "a target of 0 hours is outside 1 to 8784 hours"),
        ("400 business days", "a target of 400 business days is outside 1 to 366 business days"),
    ],
)
def test_bad_targets_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_target(text)
    assert str(caught.value) == message


# --- the calendar -----------------------------------------------------------------------------


def test_weekends_and_holidays_are_not_business_days() -> None:
    assert MA.is_business_day(date(2026, 11, 25))  # Wednesday
    assert not MA.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert MA.is_business_day(date(2026, 11, 27))  # the Friday after: not a public holiday
    assert not MA.is_business_day(date(2026, 11, 28))  # Saturday
    assert not MA.is_business_day(date(2026, 12, 25))  # Christmas
    assert MA.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert MA.holiday_name(date(2026, 12, 24)) is None


def test_patriots_day_is_a_holiday_in_massachusetts_only() -> None:
    assert not MA.is_business_day(date(2027, 4, 19))
    assert MA.holiday_name(date(2027, 4, 19)) == "Patriots' Day"
    assert US.is_business_day(date(2027, 4, 19))


def test_holidays_are_known_for_any_year() -> None:
    assert not MA.is_business_day(date(2031, 12, 25))
    assert not MA.is_business_day(date(2019, 7, 4))


def test_extra_closed_days() -> None:
    evacuation_day = date(2027, 3, 17)  # Suffolk County only: the holidays package does not know
    calendar = BusinessCalendar(
        zone=BOSTON, subdivision="MA", closed_days=frozenset({evacuation_day})
    )
    assert MA.is_business_day(evacuation_day)
    assert not calendar.is_business_day(evacuation_day)
    assert calendar.holiday_name(evacuation_day) == "closed"


def test_country_and_subdivision_spellings() -> None:
    calendar = BusinessCalendar(zone=BOSTON, country="us", subdivision="Massachusetts")
    assert (calendar.country, calendar.subdivision) == ("US", "MA")
    assert not calendar.is_business_day(date(2027, 4, 19))


def test_an_unknown_country_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        BusinessCalendar(zone=BOSTON, country="XX")
    assert str(caught.value) == (
        "holidays: unknown country 'XX'; "
        "use an ISO 3166-1 alpha-2 code the holidays package supports, such as US"
    )


def test_an_unknown_subdivision_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        BusinessCalendar(zone=BOSTON, country="US", subdivision="ZZ")
    message = str(caught.value)
    assert message.startswith("holidays: US has no subdivision 'ZZ'; expected one of: AK, AL, ")
    assert ", MA, " in message
    assert "\n" not in message


# --- due_at: hours ----------------------------------------------------------------------------


def test_hours_run_around_the_clock() -> None:
    friday_evening = local(2026, 12, 4, 18, 0)
    assert MA.due_at(friday_evening, Target(48, SlaUnit.HOURS)) == datetime(
        2026, 12, 6, 23, 0, tzinfo=UTC
    )  # Sunday 18:00 local: weekends do not stop an hours target


def test_hours_are_elapsed_time_across_daylight_saving() -> None:
    # Clocks fall back at 02:00 on Sunday 2026-11-01: 24 elapsed hours after Saturday 12:00 EDT
    # is Sunday 11:00 EST on the wall.
    saturday_noon = local(2026, 10, 31, 12, 0)
    due = MA.due_at(saturday_noon, Target(24, SlaUnit.HOURS))
    assert due == datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
    assert due.astimezone(BOSTON).hour == 11
    assert due - saturday_noon == timedelta(hours=24)


def test_due_at_is_utc() -> None:
    due = MA.due_at(local(2026, 11, 23, 9, 0), BD1)
    assert due.tzinfo is UTC
    assert MA.due_at(local(2026, 11, 23, 9, 0), Target(2, SlaUnit.HOURS)).tzinfo is UTC


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="opened_at must be timezone-aware"):
        MA.due_at(datetime(2026, 11, 23, 9, 0), BD1)  # naive: the point of the test


# --- due_at: business days --------------------------------------------------------------------


def test_one_business_day_is_the_end_of_the_next_business_day() -> None:
    # Monday 09:00 or 23:30: received Monday, due Tuesday 23:59:59 EST (04:59:59 UTC Wednesday).
    expected = end_of_day_utc(date(2026, 11, 24), -5)
    assert MA.due_at(local(2026, 11, 23, 9, 0), BD1) == expected
    assert MA.due_at(local(2026, 11, 23, 23, 30), BD1) == expected
    assert expected == datetime(2026, 11, 25, 4, 59, 59, tzinfo=UTC)


def test_the_local_day_counts_not_the_utc_day() -> None:
    # 22:30 on Monday in Boston is 03:30 on Tuesday in UTC: still Monday's report.
    opened = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    assert MA.due_at(opened, BD1) == end_of_day_utc(date(2026, 11, 24), -5)


def test_thanksgiving() -> None:
    # Received Wednesday 25th; Thursday is Thanksgiving; Friday 27th is business day 1, the
    # weekend does not count, Monday 30th is business day 2.
    assert MA.due_at(local(2026, 11, 25, 10, 0), BD2) == end_of_day_utc(date(2026, 11, 30), -5)
    assert MA.due_at(local(2026, 11, 25, 10, 0), BD1) == end_of_day_utc(date(2026, 11, 27), -5)


def test_christmas_on_a_friday_and_the_weekend_after() -> None:
    # Thursday 24 Dec 2026: Friday 25th (Christmas), Saturday and Sunday skipped: Monday 28th.
    assert MA.due_at(local(2026, 12, 24, 16, 0), BD1) == end_of_day_utc(date(2026, 12, 28), -5)
    # 3 business days: Mon 28, Tue 29, Wed 30.
    assert MA.due_at(local(2026, 12, 24, 16, 0), BD3) == end_of_day_utc(date(2026, 12, 30), -5)


def test_a_report_on_a_holiday_counts_from_the_next_business_day() -> None:
    # Christmas Day is received on Monday 28th; one business day later is Tuesday 29th.
    assert MA.due_at(local(2026, 12, 25, 11, 0), BD1) == end_of_day_utc(date(2026, 12, 29), -5)


def test_a_report_on_saturday_counts_from_monday() -> None:
    saturday = local(2026, 11, 21, 14, 0)
    sunday_night = local(2026, 11, 22, 23, 59)
    monday = local(2026, 11, 23, 8, 0)
    tuesday_night = end_of_day_utc(date(2026, 11, 24), -5)
    assert MA.due_at(saturday, BD1) == tuesday_night
    assert MA.due_at(sunday_night, BD1) == tuesday_night
    assert MA.due_at(monday, BD1) == tuesday_night
    assert MA.received_on(saturday) == date(2026, 11, 23)


def test_a_friday_report_is_due_monday() -> None:
    assert MA.due_at(local(2026, 11, 20, 16, 59), BD1) == end_of_day_utc(date(2026, 11, 23), -5)


def test_patriots_day_weekend_in_massachusetts() -> None:
    # Friday 16 April 2027; Monday 19th is Patriots' Day in Massachusetts but not federally.
    friday = local(2027, 4, 16, 9, 0)
    assert MA.due_at(friday, BD1) == end_of_day_utc(date(2027, 4, 20), -4)
    assert US.due_at(friday, BD1) == end_of_day_utc(date(2027, 4, 19), -4)


def test_business_days_across_the_end_of_daylight_saving() -> None:
    # Friday 30 Oct 2026 is EDT (UTC-4); Monday 2 Nov is EST (UTC-5): due 04:59:59 UTC Tuesday.
    due = MA.due_at(local(2026, 10, 30, 12, 0), BD1)
    assert due == datetime(2026, 11, 3, 4, 59, 59, tzinfo=UTC)
    assert due.astimezone(BOSTON).replace(tzinfo=None) == datetime(2026, 11, 2, 23, 59, 59)


def test_business_days_across_the_start_of_daylight_saving() -> None:
    # Clocks spring forward on Sunday 14 March 2027: Friday is EST, Monday EDT.
    due = MA.due_at(local(2027, 3, 12, 12, 0), BD1)
    assert due == datetime(2027, 3, 16, 3, 59, 59, tzinfo=UTC)


def test_the_rule_in_another_zone() -> None:
    los_angeles = BusinessCalendar(zone=ZoneInfo("America/Los_Angeles"), subdivision="CA")
    # Friday 2026-11-27 is a California holiday (the day after Thanksgiving).
    assert not los_angeles.is_business_day(date(2026, 11, 27))
    due = los_angeles.due_at(datetime(2026, 11, 25, 18, 0, tzinfo=UTC), BD1)
    assert due == datetime(2026, 12, 1, 7, 59, 59, tzinfo=UTC)  # Monday 30th, 23:59:59 PST


def test_add_business_days() -> None:
    assert MA.add_business_days(date(2026, 12, 24), 0) == date(2026, 12, 24)
    assert MA.add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert MA.add_business_days(date(2026, 12, 31), 1) == date(2027, 1, 4)  # New Year's Day
