"""Service-level targets: how long a category may take, and the moment a case is due.

A target is written in ``hashtags.yaml`` as ``sla: 48 hours`` or ``sla: 3 business days``
(see :func:`parse_target`). The two units mean different clocks, on purpose:

- **hours** run around the clock, weekends and holidays included, as elapsed time: a downed wire
  does not wait for Monday. ``due = opened + N hours``; across a daylight-saving change the local
  clock shows one hour more or less, the elapsed time is still N hours.
- **business days** skip weekends, the public holidays of the city's country and subdivision (the
  ``holidays`` package, observed days included, as that package defines them for the place) and
  any extra closure days the city lists. The rule, in the words a 311 director would use:

      A report is *received* on the local calendar day it arrives, or, if that day is a weekend
      or holiday, on the next business day. It is *due* by the end of the N-th business day after
      the day it was received: 23:59:59 local time.

  So ``1 business day`` gives a report from Monday 09:00 (or Monday 23:30) until Tuesday night; a
  report from Saturday counts as received on Monday and is due Tuesday night, like Monday's; the
  rest of the arrival day is always a bonus, never a penalty. Days are local days in the city's
  time zone (a report at 22:30 on Monday in Boston is 03:30 on Tuesday in UTC: it is Monday's).

  A closure recorded after a case opened (``socialbot calendar close``: a snow day) moves the
  case's due time as the rule above would have set it had the day been closed from the start:
  the case keeps its number of business days, counted anew (:meth:`BusinessCalendar.recount`).

:class:`BusinessCalendar` works in local dates and converts the due moment to UTC, so daylight
saving time is handled by the zone database, not by arithmetic here.
"""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import holidays
from holidays import HolidayBase

from socialbot.errors import ConfigError

SLA_FORMS = "'<n> hours' or '<n> business days', e.g. '48 hours' or '3 business days'"
# A year either way: beyond that a target is a typo, and the day-by-day walk would be pointless.
MAX_HOURS = 24 * 366
MAX_BUSINESS_DAYS = 366

_TARGET = re.compile(r"\s*(\d+)\s*(hours?|business\s+days?)\s*", re.IGNORECASE)
_NUMBER_AND_WORD = re.compile(r"\s*([0-9.,]+)\s*([a-z ]*?)\s*", re.IGNORECASE)
_END_OF_DAY = time(23, 59, 59)


class SlaUnit(enum.StrEnum):
    HOURS = "hours"
    BUSINESS_DAYS = "business_days"


@dataclass(frozen=True, slots=True)
class Target:
    """A category's service-level target: ``value`` hours or business days (a whole number)."""

    value: int
    unit: SlaUnit

    def __post_init__(self) -> None:
        limit = MAX_HOURS if self.unit is SlaUnit.HOURS else MAX_BUSINESS_DAYS
        if not 1 <= self.value <= limit:
            raise ValueError(f"a target of {self} is outside 1 to {limit} {self._words(2)}")

    def __str__(self) -> str:
        """The target as a city editor writes it: ``48 hours``, ``1 business day``."""
        return f"{self.value} {self._words(self.value)}"

    def _words(self, count: int) -> str:
        word = "hour" if self.unit is SlaUnit.HOURS else "business day"
        return word if count == 1 else word + "s"


def parse_target(text: str) -> Target:
    """``48 hours``, ``1 hour``, ``3 business days``, ``1 business day`` (case and spacing free).

    One form only, in words, so the YAML reads like the city's service standards and ``3 days``
    cannot silently mean calendar days to one reader and business days to another: it is refused
    with a hint. Any problem is a ValueError with a one-line message; the catalog loader adds the
    file and line.
    """
    match = _TARGET.fullmatch(text)
    if match is not None:
        value = int(match.group(1))
        unit = SlaUnit.HOURS if match.group(2).lower().startswith("hour") else SlaUnit.BUSINESS_DAYS
        return Target(value, unit)
    loose = _NUMBER_AND_WORD.fullmatch(text)
    if loose is not None:
        number, word = loose.group(1), loose.group(2).lower()
        if word in {"day", "days", "calendar day", "calendar days"}:
            raise ValueError(
                f"{text.strip()!r} is ambiguous: write '{number} business days', or "
                "a number of hours for a round-the-clock target"
            )
        if not number.isdigit():
            raise ValueError(f"{text.strip()!r}: the number must be whole; expected {SLA_FORMS}")
    raise ValueError(f"expected {SLA_FORMS}, got {text.strip()!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessCalendar:
    """The city's working days: Monday to Friday, less public holidays and listed closures.

    ``country`` is an ISO 3166-1 code (``US``) and ``subdivision`` a state or province code
    (``MA`` for Massachusetts, which adds Patriots' Day), both as the ``holidays`` package knows
    them; ``closed_days`` are extra local closures the package does not know (Boston's Evacuation
    Day and Bunker Hill Day, a snow day). Holidays are computed for each year on first use.
    An unknown country or subdivision is a :class:`ConfigError` at construction, i.e. at start-up.
    """

    zone: tzinfo
    country: str = "US"
    subdivision: str | None = None
    closed_days: frozenset[date] = frozenset()
    _holidays: HolidayBase = field(init=False, repr=False, compare=False)
    # `due_at` by (opening, target): a page of intake opens its cases at one moment.
    _due: dict[tuple[datetime, Target], datetime] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen dataclass: the holiday table is made once here and fills in years as asked.
        country, subdivision, table = _holiday_table(self.country, self.subdivision)
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "subdivision", subdivision)
        object.__setattr__(self, "_holidays", table)
        object.__setattr__(self, "_due", {})

    def is_business_day(self, day: date) -> bool:
        """Monday to Friday, not a public holiday (or its observed day), not a listed closure."""
        return day.weekday() < 5 and day not in self._holidays and day not in self.closed_days

    def holiday_name(self, day: date) -> str | None:
        """Why a weekday is not a business day (for staff who ask), or None if it is one."""
        if day in self.closed_days:
            return "closed"
        name = self._holidays.get(day)
        return str(name) if name is not None else None

    def received_on(self, moment: datetime) -> date:
        """The business day a report arriving at ``moment`` counts as received (local time)."""
        day = _aware(moment, "moment").astimezone(self.zone).date()
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day`` (``day`` itself never counts)."""
        while count > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """How many business days lie after ``start`` up to ``end`` included (0 if none)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count

    def due_at(self, opened_at: datetime, target: Target) -> datetime:
        """When a case opened at ``opened_at`` is due under ``target``, in UTC (rules: above)."""
        key = (opened_at, target)
        known = self._due.get(key)
        if known is not None:
            return known
        opened = _aware(opened_at, "opened_at").astimezone(UTC)
        if target.unit is SlaUnit.HOURS:
            due = opened + timedelta(hours=target.value)
        else:
            due = self.end_of(self.add_business_days(self.received_on(opened), target.value))
        if len(self._due) >= _DUE_KEPT:
            self._due.clear()
        self._due[key] = due
        return due

    def end_of(self, day: date) -> datetime:
        """23:59:59 local on ``day``, in UTC: the moment a case due that day is late after."""
        # fold=1: in a zone whose clocks fall back at midnight, the later 23:59:59 is the end.
        end = datetime.combine(day, _END_OF_DAY, tzinfo=self.zone).replace(fold=1)
        return end.astimezone(UTC)

    def recount(self, opened_at: datetime, due_at: datetime, before: BusinessCalendar) -> datetime:
        """The due time of a case in business days, opened at ``opened_at`` and due at ``due_at``
        by the calendar ``before``, under this calendar instead (the same city with a day closed
        or opened since): as many business days after the day it counts as received, counted
        on this calendar. The stored due time, not the catalog's target of today, says how many:
        a city that has changed a category's target since does not move its old cases by it."""
        received = before.received_on(opened_at)
        due_day = _aware(due_at, "due_at").astimezone(self.zone).date()
        count = before.business_days_between(received, due_day)
        if count < 1:  # not a due time this calendar set: leave it as it is
            return due_at
        return self.end_of(self.add_business_days(self.received_on(opened_at), count))

    def with_closed_days(self, days: Iterable[date]) -> BusinessCalendar:
        """This calendar with ``days`` as its listed closures instead of its own (the holiday
        table is shared, not made again: intake asks for one each page)."""
        changed = copy.copy(self)
        object.__setattr__(changed, "closed_days", frozenset(days))
        object.__setattr__(changed, "_due", {})  # due times under other closures
        return changed


# The due times a calendar keeps (`due_at`): a few pages' worth, then it starts again.
_DUE_KEPT = 256


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")
    return moment


def _holiday_table(country: str, subdivision: str | None) -> tuple[str, str | None, HolidayBase]:
    """The holiday table, with country and subdivision as the package spells them, or a
    ConfigError naming what to write instead (subdivision names such as "Massachusetts" work)."""
    code = country.strip().upper()
    try:
        national = holidays.country_holidays(code)
    except NotImplementedError:
        raise ConfigError(
            f"holidays: unknown country {country!r}; "
            "use an ISO 3166-1 alpha-2 code the holidays package supports, such as US"
        ) from None
    if subdivision is None or not subdivision.strip():
        return code, None, national
    spellings = {sub.upper(): sub for sub in national.subdivisions}
    spellings |= {alias.upper(): sub for alias, sub in national.subdivisions_aliases.items()}
    found = spellings.get(subdivision.strip().upper())
    if found is None:
        choices = ", ".join(national.subdivisions) or "none"
        raise ConfigError(
            f"holidays: {code} has no subdivision {subdivision!r}; expected one of: {choices}"
        )
    return code, found, holidays.country_holidays(code, subdiv=found)
