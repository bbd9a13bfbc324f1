"""When a scheduled broadcast is due: `--at` times and `--cron` expressions in the city's zone.

Cron is read as crontab(5) reads it, by APScheduler's cron trigger. One trap is closed here:
APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0, so `0 7 * * 2` would fire
on Wednesdays. Weekday numbers are turned into names first (2 → tue), which both read alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import regex
from apscheduler.triggers.cron import CronTrigger

from socialbot.errors import BroadcastError
from socialbot.timespan import local_time

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_AT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")


def parse_at(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """`2026-11-23 07:00` in the city's zone, as UTC; BroadcastError if malformed or past."""
    for fmt in _AT_FORMATS:
        try:
            local = datetime.strptime(text.strip(), fmt)
            break
        except ValueError:
            continue
    else:
        raise BroadcastError(f"--at {text!r}: write the city's local time as 'YYYY-MM-DD HH:MM'")
    when = local.replace(tzinfo=zone)
    # A wall time that does not exist (spring forward) or exists twice (fall back) is refused
    # rather than guessed: an alert an hour off is wrong.
    round_trip = when.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    folded = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if round_trip != local or folded != when.astimezone(UTC):
        raise BroadcastError(
            f"--at {text!r}: that time does not exist or happens twice in {zone.key} "
            "(daylight saving change); pick another minute"
        )
    utc = when.astimezone(UTC)
    if utc <= now:
        raise BroadcastError(f"--at {text!r} is in the past (it is now {local_time(now, zone)})")
    return utc


def _weekday_names(field: str) -> str:
    """crontab weekday numbers (0 or 7 = Sunday) as names; step values are left alone."""

    def name(match: regex.Match[str]) -> str:
        number = int(match[0])
        if number > 7:
            raise BroadcastError(f"weekday {number} does not exist (0–7, or sun–sat)")
        return _DAY_NAMES[number]

    # A range from Sunday (0-5) would become sun-fri, which APScheduler reads backwards.
    field = regex.sub(r"(?<![\d/])0-(\d+)", lambda m: f"0,1-{m[1]}" if m[1] != "0" else "0", field)
    return regex.sub(r"(?<![\d/])\d+", name, field)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A validated cron expression in a zone; `next_after` gives its occurrences in UTC."""

    expression: str
    zone: ZoneInfo
    _trigger: CronTrigger

    @classmethod
    def parse(cls, expression: str, zone: ZoneInfo) -> Recurrence:
        fields = expression.split()
        if len(fields) != 5:
            raise BroadcastError(
                f"--cron {expression!r}: five fields are needed: minute hour day month weekday, "
                'e.g. "0 7 * * TUE" for Tuesdays at 07:00'
            )
        try:
            fields[4] = _weekday_names(fields[4].lower())
            trigger = CronTrigger.from_crontab(" ".join(fields), timezone=zone)
        except (ValueError, BroadcastError) as exc:
            raise BroadcastError(f"--cron {expression!r}: {exc}") from None
        return cls(expression=expression, zone=zone, _trigger=trigger)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment`, in UTC; None if there is none."""
        # The trigger answers "at or after"; a minute's grain makes +1 s "strictly after".
        found = self._trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
        return found.astimezone(UTC) if found is not None else None
