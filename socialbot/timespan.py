"""`--since 7d`: a span of time back from now, or a date. Pure: the caller passes the clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SINCE_FORMS = "30m, 24h, 7d, 2w, or a date like 2026-11-01 (from its midnight, the city's time)"

_DURATION = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_since(text: str, now: datetime, zone: ZoneInfo | None = None) -> datetime:
    """The moment `text` means: `now` minus a duration (`30m`, `24h`, `7d`, `2w`), or the start
    of an ISO date (`2026-11-01`) in `zone` (the city's: its midnight, as staff and the reports
    read a day; UTC when none is given), as a UTC moment. Anything else is a ValueError naming
    the forms."""
    value = text.strip()
    if match := _DURATION.fullmatch(value):
        amount, unit = int(match[1]), _UNITS[match[2]]
        try:
            return now - timedelta(**{unit: amount})
        except OverflowError:
            raise ValueError(f"{text!r} reaches back too far") from None
    if _ISO_DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{text!r} is not a day of the calendar") from None
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone or UTC)
        return midnight.astimezone(UTC)
    raise ValueError(f"expected {SINCE_FORMS}, got {text!r}")


def local_time(moment: datetime | None, zone: ZoneInfo, *, with_zone: bool = True) -> str:
    """`2026-11-24 07:00 America/New_York`: a moment as the city reads it; "-" for none."""
    if moment is None:
        return "-"
    shown = f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"
    return f"{shown} {zone.key}" if with_zone else shown
