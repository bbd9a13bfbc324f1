"""The city's own closures, a snow day or a strike: `socialbot calendar close`, `open`, `list`.

SLA business days skip weekends and public holidays (`sla.BusinessCalendar`); a closure is a day
the city adds to those, stored in `closed_days` with who closed it and why. Due times are stored
(`cases.due_at`, set at intake, read by `cases`, reports, `status`, the web service and its
Open311 answers), so a closure honoured everywhere means two things:

- intake reads the closed days inside the transaction that opens the cases (`calendar_in`), so
  a case is never filed by a calendar older than the one its page committed against. On
  PostgreSQL the page holds `closed_days` in SHARE mode and a change takes SHARE ROW EXCLUSIVE:
  a change waits for the pages being written, and the pages after it wait for it to commit (on
  SQLite every write transaction is BEGIN IMMEDIATE, one at a time already);
- a change moves the due time of every open case it concerns, in its own transaction, as if the
  day had been closed (or open) when the case was filed (`BusinessCalendar.recount`), and writes
  a case event for each (who, and why), which is also what tells the web service's kept answers
  that the case changed (`web.reads.change_mark`). Resolved and closed cases keep the due time
  they were finished against: the record of what was promised when the work was done.

A day is closed at most once at a time; opening it again keeps the row (`opened_at`, `opened_by`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from socialbot.catalog import Catalog
from socialbot.errors import CalendarError
from socialbot.lifecycle import OPEN
from socialbot.sla import BusinessCalendar, SlaUnit
from socialbot.store.db import transaction
from socialbot.store.models import Case, CaseEvent, ClosedDay

# One command closes at most a month: a longer range is more likely `2027` typed for `2026`.
MAX_RANGE_DAYS = 31
# A day further than a year away, before or after today, is a typo too.
MAX_DISTANCE = timedelta(days=366)
MAX_REASON = (
    200  # characters: a reason is shown in `calendar list` and in each moved case's history
)
DEFAULT_WEEKS = 8
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHOWN_CASES = 10  # case numbers a change names; the rest are counted


class DayKind(enum.StrEnum):
    CLOSED = "closed"  # the city's own closure, from `closed_days`
    HOLIDAY = "holiday"  # a public holiday, as the holidays package knows the city's place


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """A day of `calendar list`: a closure (with who recorded it and when) or a holiday."""

    day: date
    kind: DayKind
    why: str  # the closure's reason, or the holiday's name
    closed_by: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MovedDue:
    """An open case whose due time a change of the calendar moved."""

    case_id: int
    was: datetime
    now: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """What `close` or `reopen` did: the days it changed; those it left, already so (a closure
    with its reason and who, or a day that was not closed); the days changed that were no
    business day anyway (weekend or holiday: moving no due time), each with why; the due times
    moved."""

    changed: tuple[date, ...]
    left: tuple[date, ...]
    not_business_days: tuple[tuple[date, str], ...]
    moved: tuple[MovedDue, ...]


def parse_day(value: str, name: str = "DATE") -> date:
    """`2026-12-24`: a local date in the city's zone; anything else is a one-line CalendarError."""
    shown = value.strip()
    try:
        if _ISO_DAY.fullmatch(shown) is None:
            raise ValueError(shown)
        return date.fromisoformat(shown)
    except ValueError:
        raise CalendarError(
            f"{name} {shown[:40]!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-24"
        ) from None


def days_of(first: date, last: date | None, today: date) -> list[date]:
    """The days from `first` to `last` (both included; `first` alone without `last`), each
    within a year of `today`, at most MAX_RANGE_DAYS of them; else a one-line CalendarError."""
    last = first if last is None else last
    if last < first:
        raise CalendarError(f"{last} is before {first}: give the first day, then the last")
    count = (last - first).days + 1
    if count > MAX_RANGE_DAYS:
        raise CalendarError(
            f"{first} to {last} is {count} days; one command changes at most {MAX_RANGE_DAYS}"
        )
    for day in (first, last):
        if abs(day - today) > MAX_DISTANCE:
            raise CalendarError(
                f"{day} is more than a year from today ({today}); a typo? "
                "the calendar takes days within a year either way"
            )
    return [first + timedelta(days=n) for n in range(count)]


def check_reason(reason: str) -> str:
    """The reason as recorded: trimmed, given, at most MAX_REASON characters, on one line."""
    shown = " ".join(reason.split())
    if not shown:
        raise CalendarError('give --reason: why the city is closed, e.g. --reason "snow storm"')
    if len(shown) > MAX_REASON:
        raise CalendarError(f"--reason is {len(shown)} characters; at most {MAX_REASON}")
    return shown


def calendar_in(session: Session, calendar: BusinessCalendar, now: datetime) -> BusinessCalendar:
    """`calendar` with the days closed as `session` sees them, for due times filed in it: intake
    calls it at the start of each page's transaction (see the module's docstring for the lock).
    Closures before yesterday, in any zone, cannot reach a case opened `now`: not read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE closed_days IN SHARE MODE"))
    since = now.astimezone(UTC).date() - timedelta(days=2)
    return calendar.with_closed_days(_closed_since(session, since))


def close(
    engine: Engine,
    calendar: BusinessCalendar,
    catalog: Catalog,
    days: Sequence[date],
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> Change:
    """Close `days` (those not closed already) for `reason`, recorded as `actor`, and move the
    due time of each open case they concern. Every day already closed: a CalendarError."""
    reason = check_reason(reason)
    with transaction(engine) as session:
        _lock_for_change(session)
        closed = {row.day: row for row in _closed_rows(session)}
        left = tuple(day for day in days if day in closed)
        changed = tuple(day for day in days if day not in closed)
        if not changed:
            raise CalendarError(_already_closed(closed[days[0]], len(days), calendar.zone))
        for day in changed:
            session.add(ClosedDay(day=day, reason=reason, closed_at=now, closed_by=actor))
        session.flush()
        before = calendar.with_closed_days(closed)
        after = calendar.with_closed_days({*closed, *changed})
        note = f"{_days_text(changed)} closed: {reason}"
        moved = _move_due_times(session, catalog, before, after, changed, note, actor, now)
    return Change(changed, left, _not_business_days(calendar, changed), moved)


def reopen(
    engine: Engine,
    calendar: BusinessCalendar,
    catalog: Catalog,
    days: Sequence[date],
    *,
    actor: str,
    now: datetime,
) -> Change:
    """Open again the closed days among `days`, recorded as `actor`, and move back the due time
    of each open case they concern. None of them closed: a CalendarError."""
    with transaction(engine) as session:
        _lock_for_change(session)
        closed = {row.day: row for row in _closed_rows(session)}
        changed = tuple(day for day in days if day in closed)
        left = tuple(day for day in days if day not in closed)
        if not changed:
            span = (
                f"{days[0]} is not" if len(days) == 1 else f"no day from {days[0]} to {days[-1]} is"
            )
            raise CalendarError(
                f"{span} closed; `socialbot calendar list --from DATE` shows the days that are"
            )
        for day in changed:
            row = closed[day]
            row.opened_at, row.opened_by = now, actor
            session.add(row)
        session.flush()
        before = calendar.with_closed_days(closed)
        after = calendar.with_closed_days(set(closed) - set(changed))
        note = f"{_days_text(changed)} open again"
        moved = _move_due_times(session, catalog, before, after, changed, note, actor, now)
    return Change(changed, left, _not_business_days(calendar, changed), moved)


def upcoming(
    engine: Engine, calendar: BusinessCalendar, start: date, weeks: int = DEFAULT_WEEKS
) -> list[CalendarDay]:
    """Every closure from `start` on (however far), and the public holidays of the `weeks`
    weeks from `start`: the days that are no business day besides weekends, by date (a
    closure before a holiday of the same day)."""
    with transaction(engine, commit=False) as session:
        rows = session.exec(
            select(ClosedDay)
            .where(col(ClosedDay.opened_at).is_(None), col(ClosedDay.day) >= start)
            .order_by(col(ClosedDay.day))
        ).all()
        days = [
            CalendarDay(row.day, DayKind.CLOSED, row.reason, row.closed_by, row.closed_at)
            for row in rows
        ]
    plain = calendar.with_closed_days(())
    for offset in range(7 * weeks):
        day = start + timedelta(days=offset)
        name = plain.holiday_name(day)
        if name is not None:
            days.append(CalendarDay(day, DayKind.HOLIDAY, name))
    return sorted(days, key=lambda d: (d.day, d.kind is DayKind.HOLIDAY))


def local_today(now: datetime, zone: tzinfo) -> date:
    return now.astimezone(zone).date()


def weekday_name(day: date) -> str:
    return _WEEKDAYS[day.weekday()]


def _lock_for_change(session: Session) -> None:
    # SHARE ROW EXCLUSIVE: one change at a time, after the intake pages being written and before
    # the next ones (they take SHARE, `calendar_in`); plain reads (`list`) are not held.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE closed_days IN SHARE ROW EXCLUSIVE MODE"))


def _closed_rows(session: Session) -> Sequence[ClosedDay]:
    return session.exec(select(ClosedDay).where(col(ClosedDay.opened_at).is_(None))).all()


def _closed_since(session: Session, since: date) -> set[date]:
    return set(
        session.exec(
            select(col(ClosedDay.day)).where(
                col(ClosedDay.opened_at).is_(None), col(ClosedDay.day) >= since
            )
        ).all()
    )


def _move_due_times(
    session: Session,
    catalog: Catalog,
    before: BusinessCalendar,
    after: BusinessCalendar,
    changed: Sequence[date],
    note: str,
    actor: str,
    now: datetime,
) -> tuple[MovedDue, ...]:
    """Recount the due time of every open case in business days that `changed` could concern:
    opened by the end of the last day changed, due after the start of the first."""
    start = datetime.combine(min(changed), time(0), tzinfo=after.zone).astimezone(UTC)
    end = datetime.combine(max(changed) + timedelta(days=1), time(0), tzinfo=after.zone)
    cases = session.exec(
        select(Case)
        .where(
            col(Case.status).in_(list(OPEN)),
            col(Case.due_at) >= start,
            col(Case.created_at) < end.astimezone(UTC),
        )
        .order_by(col(Case.id))
        .with_for_update()
    ).all()
    moved: list[MovedDue] = []
    for case in cases:
        category = catalog.find(case.category)
        if case.due_at is None or category is None or category.sla is None:
            continue  # a category the city has removed since: its cases keep their due time
        if category.sla.unit is not SlaUnit.BUSINESS_DAYS:
            continue  # hours run around the clock, closures included
        due = after.recount(case.created_at, case.due_at, before)
        if due == case.due_at:
            continue
        assert case.id is not None
        moved.append(MovedDue(case.id, case.due_at, due))
        event_note = f"due {_day(case.due_at, after.zone)} → {_day(due, after.zone)}: {note}"
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor=actor,
                from_status=case.status,
                to_status=case.status,
                note=event_note,
            )
        )
        case.due_at, case.updated_at = due, now
        session.add(case)
    return tuple(moved)


def _not_business_days(
    calendar: BusinessCalendar, days: Sequence[date]
) -> tuple[tuple[date, str], ...]:
    plain = calendar.with_closed_days(())
    found = []
    for day in days:
        if plain.is_business_day(day):
            continue
        name = plain.holiday_name(day)
        found.append((day, f"a {weekday_name(day)}" if day.weekday() >= 5 else name or "closed"))
    return tuple(found)


def _already_closed(row: ClosedDay, asked: int, zone: tzinfo) -> str:
    when = f"{row.closed_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    span = f"{row.day} is" if asked == 1 else f"every day asked, from {row.day}, is"
    return (
        f"{span} already closed ({row.reason}, by {row.closed_by} on {when}); "
        "`socialbot calendar open` it first to change the reason"
    )


def _days_text(days: Sequence[date]) -> str:
    if len(days) <= 3:
        return ", ".join(str(d) for d in days)
    return f"{days[0]} to {days[-1]} ({len(days)} days)"


def _day(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%a %Y-%m-%d}"
