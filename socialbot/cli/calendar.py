"""`socialbot calendar close`, `open`, `list`: the city's own closures (a snow day, a strike),
which SLA business days skip as they skip weekends and public holidays (`socialbot.closures`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Group
from rich.table import Table
from sqlalchemy import Engine

from socialbot import closures
from socialbot.app import CaseContent, load_case_content, open_database, utc_now
from socialbot.cli.common import console, friendly_errors, print_json, recorded_as, state
from socialbot.closures import CalendarDay, Change, DayKind

app = typer.Typer(
    help="The city's closures (snow days): not business days for SLAs.", no_args_is_help=True
)

First = Annotated[
    str, typer.Argument(metavar="DATE", help="The day, YYYY-MM-DD in the city's time zone.")
]
Last = Annotated[
    str | None,
    typer.Argument(metavar="[LAST]", help="The last day of a range (included), YYYY-MM-DD."),
]
Actor = Annotated[
    str | None,
    typer.Option("--as", help="Who changes the calendar, for the record. Default: your login."),
]


@app.command("close")
@friendly_errors
def close_command(
    ctx: typer.Context,
    first: First,
    last: Last = None,
    reason: Annotated[
        str, typer.Option("--reason", help='Why the city is closed (required), e.g. "storm".')
    ] = "",
    actor: Actor = None,
) -> None:
    """Close a day (or the days FIRST to LAST): open cases due after it are due a business day
    later, as are the cases opened before it."""
    who = recorded_as(actor)
    _change(
        ctx,
        first,
        last,
        lambda engine, content, days, now: closures.close(
            engine, content.calendar, content.catalog, days, reason=reason, actor=who, now=now
        ),
        lambda change: (
            f"closed {_days_text(change.changed)}: {closures.check_reason(reason)} (by {who})"
        ),
    )


@app.command("open")
@friendly_errors
def open_command(ctx: typer.Context, first: First, last: Last = None, actor: Actor = None) -> None:
    """Open a closed day (or the closed days FIRST to LAST) again: the due times its closure
    moved move back."""
    who = recorded_as(actor)
    _change(
        ctx,
        first,
        last,
        lambda engine, content, days, now: closures.reopen(
            engine, content.calendar, content.catalog, days, actor=who, now=now
        ),
        lambda change: f"open again {_days_text(change.changed)} (by {who})",
    )


def _change(
    ctx: typer.Context,
    first: str,
    last: str | None,
    act: Callable[[Engine, CaseContent, Sequence[date], datetime], Change],
    headline: Callable[[Change], str],
) -> None:
    """What `close` and `open` share: the days read in the city's zone, `act` on the database,
    the report of what moved."""
    settings = state(ctx).settings()
    content = load_case_content(settings)
    now = utc_now()
    today = closures.local_today(now, settings.zone)
    days = _days(first, last, today)
    engine = open_database(settings)
    try:
        change = act(engine, content, days, now)
    finally:
        engine.dispose()
    _report(headline(change), change, settings.zone, today)


@app.command("list")
@friendly_errors
def list_command(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="The first day shown. Default: today."),
    ] = None,
    weeks: Annotated[
        int,
        typer.Option(min=1, max=52, help="Weeks of public holidays shown (closures: all)."),
    ] = closures.DEFAULT_WEEKS,
    as_json: Annotated[bool, typer.Option("--json", help="Every day as JSON.")] = False,
) -> None:
    """The days that are no business day besides weekends: the city's closures from --from on,
    with who closed each and why, and the public holidays of the coming weeks."""
    settings = state(ctx).settings()
    calendar = load_case_content(settings).calendar
    today = closures.local_today(utc_now(), settings.zone)
    first = closures.parse_day(start, "--from") if start is not None else today
    engine = open_database(settings)
    try:
        days = closures.upcoming(engine, calendar, first, weeks)
    finally:
        engine.dispose()
    if as_json:
        print_json([_day_json(d) for d in days])
        return
    console.print(calendar_table(days, first, weeks, settings.zone, console.width))


# From this width on, who closed a day and when each get a column of their own, on one line.
WIDE = 110


def calendar_table(
    days: Sequence[CalendarDay], first: date, weeks: int, zone: ZoneInfo, width: int
) -> Group:
    """`calendar list` at `width` columns: a line saying what is shown, then a day a row. The
    reason (or the holiday's name) and who closed it wrap; the days and the time a closure was
    recorded (in the city's zone, named above) never do. Narrower than WIDE, who and when share
    a column, one above the other."""
    closed = sum(d.kind is DayKind.CLOSED for d in days)
    title = (
        f"From {first:%a %Y-%m-%d}, {weeks} weeks: {closed} closure(s), "
        f"{len(days) - closed} holiday(s) ({zone.key})"
    )
    wide = width >= WIDE
    table = Table()
    table.add_column("day", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("why", overflow="fold")
    if wide:
        table.add_column("closed by", overflow="fold")
        table.add_column("recorded", no_wrap=True)
    else:
        table.add_column("closed by, at", overflow="fold", min_width=16, max_width=20)
    for day in days:
        at = f"{day.closed_at.astimezone(zone):%Y-%m-%d %H:%M}" if day.closed_at else ""
        who = day.closed_by or ""
        cells = [who, at] if wide else [f"{who}\n{at}" if at else ""]
        table.add_row(f"{day.day:%a %Y-%m-%d}", day.kind.value, day.why, *cells)
    return Group(title, table)


def _days(first: str, last: str | None, today: date) -> list[date]:
    start = closures.parse_day(first, "DATE")
    end = closures.parse_day(last, "LAST") if last is not None else None
    return closures.days_of(start, end, today)


def _report(headline: str, change: Change, zone: ZoneInfo, today: date) -> None:
    """What a change did, a line each: the days, those left as they were, the days that were
    no business day anyway, and the open cases whose due time moved."""
    lines = [headline]
    if change.left:
        was = "already closed" if headline.startswith("closed") else "not closed"
        lines.append(f"left as they were ({was}): {_days_text(change.left)}")
    for day, why in change.not_business_days:
        lines.append(f"{day} is {why}: no business day lost, no due time moves for it")
    past = [d for d in change.changed if d < today]
    if past:
        verb = "is" if len(past) == 1 else "are"
        lines.append(
            f"{_days_text(past)} {verb} past: finished cases keep their due time, open ones "
            "are recounted"
        )
    if not change.moved:
        lines.append("no open case's due time moved")
    else:
        lines.append(f"due time moved for {len(change.moved)} open case(s) ({zone.key}):")
        for moved in change.moved[: closures.SHOWN_CASES]:
            lines.append(f"  #{moved.case_id}: {_when(moved.was, zone)} → {_when(moved.now, zone)}")
        rest = len(change.moved) - closures.SHOWN_CASES
        if rest > 0:
            lines.append(f"  and {rest} more (`socialbot cases show N` shows each one's history)")
    for line in lines:
        console.print(line, markup=False)


def _days_text(days: Sequence[date]) -> str:
    if len(days) <= 3:
        return ", ".join(f"{d:%a} {d}" for d in days)
    return f"{days[0]:%a} {days[0]} to {days[-1]:%a} {days[-1]} ({len(days)} days)"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M}"


def _day_json(day: CalendarDay) -> dict[str, object]:
    return {
        "date": day.day.isoformat(),
        "weekday": closures.weekday_name(day.day),
        "kind": day.kind.value,
        "why": day.why,
        "closed_by": day.closed_by,
        "closed_at": day.closed_at.isoformat() if day.closed_at else None,
    }
