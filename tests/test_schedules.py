"""`--at` and `--cron`, read in the city's time zone as a person would read them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from socialbot.broadcasts.schedules import Recurrence, parse_at
from socialbot.errors import BroadcastError

BOSTON = ZoneInfo("America/New_York")
MONDAY_NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in Boston


def test_at_is_city_time() -> None:
    assert parse_at("2026-11-24 07:00", BOSTON, MONDAY_NOON_UTC) == datetime(
        2026, 11, 24, 12, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tomorrow 7am", r"write the city's local time as 'YYYY-MM-DD HH:MM'"),
        ("2026-11-23 06:59", r"is in the past \(it is now 2026-11-23 07:00 America/New_York\)"),
        ("2027-03-14 02:30", r"does not exist or happens twice in America/New_York"),
        ("2026-11-01 01:30", r"does not exist or happens twice in America/New_York"),
    ],
)
def test_a_bad_at_time_is_refused(text: str, message: str) -> None:
    with pytest.raises(BroadcastError, match=message):
        parse_at(text, BOSTON, MONDAY_NOON_UTC)


@pytest.mark.parametrize(
    ("expression", "weekday"),
    [
        ("0 7 * * TUE", "Tue"),
        ("0 7 * * 2", "Tue"),  # crontab numbering: APScheduler alone would say Wednesday
        ("0 7 * * 0", "Sun"),
        ("0 7 * * 7", "Sun"),
        ("0 7 * * 0-2", "Tue"),  # Sunday to Tuesday; Monday 07:00 itself is not "after"
        ("0 7 * * 4-5", "Thu"),
        ("0 7 * * sat,3", "Wed"),
    ],
)
def test_cron_weekdays_read_as_crontab(expression: str, weekday: str) -> None:
    following = Recurrence.parse(expression, BOSTON).next_after(MONDAY_NOON_UTC)
    assert following is not None
    assert following.astimezone(BOSTON).strftime("%a %H:%M") == f"{weekday} 07:00"


def test_cron_follows_the_city_clock_across_daylight_saving() -> None:
    weekly = Recurrence.parse("0 7 * * SUN", BOSTON)
    before = weekly.next_after(datetime(2026, 10, 26, tzinfo=UTC))
    after = weekly.next_after(datetime(2026, 11, 2, tzinfo=UTC))
    assert before == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # 07:00 EST (DST ended at 02:00)
    assert after == datetime(2026, 11, 8, 12, 0, tzinfo=UTC)
    earlier = weekly.next_after(datetime(2026, 10, 19, tzinfo=UTC))
    assert earlier == datetime(2026, 10, 25, 11, 0, tzinfo=UTC)  # 07:00 EDT


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 7 * *", r"five fields are needed: minute hour day month weekday"),
        ("0 25 * * *", r"higher than the maximum value \(23\)"),
        ("0 7 * * 8", r"weekday 8 does not exist"),
    ],
)
def test_a_bad_cron_expression_is_refused(expression: str, message: str) -> None:
    with pytest.raises(
        BroadcastError, match=rf"^--cron {re.escape(repr(expression))}: .*{message}"
    ):
        Recurrence.parse(expression, BOSTON)
