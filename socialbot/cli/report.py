"""`socialbot report …` and `socialbot export cases`: the figures a 311 director takes to council.

Thin: read the cases (`store.queries.case_facts`) and the residents' messages
(`message_facts`, `inbox_facts`), compute (`socialbot.reports`), print as a table, CSV or JSON, or
draw the chart (`socialbot.exports`).
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from socialbot import exports, reports
from socialbot.app import (
    CaseContent,
    load_case_content,
    open_database,
    shown_id,
    shown_person,
    utc_now,
)
from socialbot.cli.common import console, friendly_errors, moment, print_data, print_json, state
from socialbot.cli.render import Col, FitTable
from socialbot.config import Settings
from socialbot.errors import ConfigError
from socialbot.exports import spreadsheet_safe
from socialbot.people import shown_handle
from socialbot.sms.phone import masked_in
from socialbot.store.queries import case_facts, inbox_facts, message_facts, report_facts
from socialbot.timespan import SINCE_FORMS, local_time

app = typer.Typer(
    help="Figures for a council report: volume, time to resolve, SLA, backlog, hot spots.",
    invoke_without_command=True,
)
export_app = typer.Typer(help="Export data for GIS and spreadsheets.", no_args_is_help=True)


class Format(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"


Since = Annotated[str, typer.Option("--since", help=f"Start of the window: {SINCE_FORMS}.")]
Until = Annotated[
    str | None,
    typer.Option("--until", help="End of the window (a date, or e.g. 7d ago). Default: now."),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json.")]


def _started(ctx: typer.Context) -> tuple[Settings, CaseContent]:
    """The settings, and the content cases are filed with checked at once (`load_case_content`):
    a broken file is one line before any figure, as for `socialbot run`."""
    settings = state(ctx).settings()
    return settings, load_case_content(settings)


def _window(since: str, until: str | None, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = moment(since, "--since", zone)
    end = moment(until, "--until", zone) if until else utc_now()
    if end <= start:
        raise typer.BadParameter("must be after --since", param_hint="--until")
    return start, end


@app.callback()
@friendly_errors
def report_command(
    ctx: typer.Context,
    since: Since = "30d",
    until: Until = None,
    by: Annotated[
        reports.GroupBy,
        typer.Option(
            "--by", help="One row per category, district, department or week, and the total."
        ),
    ] = reports.GroupBy.CATEGORY,
    fmt: FormatOption = Format.TABLE,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="Also draw weekly volume and SLA share to this PNG.", dir_okay=False
        ),
    ] = None,
) -> None:
    """Opened, resolved and open cases, time to resolve (median, 90th percentile), share resolved
    within SLA and backlog age, in total and per group; then the residents' messages (in, filed,
    answered automatically and by staff, time to a staff answer, unanswered now) by channel."""
    if ctx.invoked_subcommand is not None:
        return
    settings, content = _started(ctx)
    start, end = _window(since, until, settings.zone)
    now = utc_now()
    cases = _cases(settings, end)
    result = reports.summary(cases, since=start, until=end, now=now, by=by, zone=settings.zone)
    talk = _engagement(settings, start, end, now)
    rows = [*result.rows, result.total]
    records = [row.to_record() for row in rows]
    if fmt is Format.JSON:
        print_json(
            {
                "since": start.isoformat(),
                "until": result.until.isoformat(),
                "rows": records,
                "engagement": _engagement_records(talk),
            }
        )
    elif fmt is Format.CSV:
        # One table, as before: the city's engagement totals are extra columns of the total row
        # (empty in a group's row), so a reader that goes by header names reads what it did.
        # A row per channel: `report engagement --format csv`.
        *groups, total = records
        _print_csv([*groups, {**total, **_without_key(talk.total.to_record())}])
    else:
        console.print(summary_table(rows, by, _title(start, result.until, settings)))
        console.print()
        console.print(engagement_table(talk, _title(start, talk.until, settings)))
    if chart is not None:
        labels = {c.key: c.name_en for c in content.catalog.categories}
        try:
            exports.weekly_chart(
                cases, chart, since=start, until=end, now=now, zone=settings.zone, labels=labels
            )
        except ConfigError as exc:
            raise ConfigError(f"--chart: {exc}; give a path in a folder you can write to") from None
        console.print(f"chart written to {chart}", markup=False)


@app.command("engagement")
@friendly_errors
def engagement_command(
    ctx: typer.Context,
    since: Since = "30d",
    until: Until = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Residents' messages by channel: in, reports filed and linked, questions answered
    automatically, answered by staff (median and p90 time), closed without a reply, unanswered
    now. The same figures as plain `report`'s second table, with a CSV row per channel."""
    settings, _ = _started(ctx)
    start, end = _window(since, until, settings.zone)
    talk = _engagement(settings, start, end, utc_now())
    if _printed(_engagement_records(talk), fmt):
        return
    console.print(engagement_table(talk, _title(start, talk.until, settings)))


@app.command("hotspots")
@friendly_errors
def hotspots_command(
    ctx: typer.Context,
    since: Since = "30d",
    until: Until = None,
    by: Annotated[
        reports.HotspotBy,
        typer.Option("--by", help="cell (about 150 m by 110 m) or district."),
    ] = reports.HotspotBy.CELL,
    top: Annotated[int, typer.Option("--top", min=1, help="How many places.")] = 10,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """The places with the most reports in the window, with their top categories."""
    settings, _ = _started(ctx)
    start, end = _window(since, until, settings.zone)
    result = reports.hotspots(
        _cases(settings, end), since=start, until=end, now=utc_now(), by=by, top=top
    )
    if _printed([row.to_record() for row in result.rows], fmt):
        return
    table = FitTable(
        (
            Col("place"),
            Col("reports", right=True),
            Col("cases", right=True),
            Col("top categories", wrap=True, short="categories"),
            Col("map", priority=1),
        ),
        title=f"Hot spots by {by.value}, {_title(start, end, settings)}",
    )
    for row in result.rows:
        table.add_row(
            row.key,
            str(row.reports),
            str(row.cases),
            ", ".join(f"{c.category} {c.reports}" for c in row.top_categories),
            f"{row.centre.lat:.5f},{row.centre.lon:.5f}" if row.centre else "-",
        )
    console.print(table)
    if result.unlocated_reports:
        console.print(f"{result.unlocated_reports} report(s) without a {by.value} are not counted.")


@app.command("reporters")
@friendly_errors
def reporters_command(
    ctx: typer.Context,
    since: Since = "30d",
    until: Until = None,
    min_reports: Annotated[
        int, typer.Option("--min", min=1, help="List people with at least this many reports.")
    ] = 5,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Repeat reporters: who filed many reports, and of how many problems."""
    settings, _ = _started(ctx)
    start, end = _window(since, until, settings.zone)
    engine = open_database(settings)
    try:
        facts = report_facts(engine, until=end)
    finally:
        engine.dispose()
    rows = reports.reporters(facts, since=start, until=end, now=utc_now(), min_reports=min_reports)
    if _printed([_shown_record(row) for row in rows], fmt):
        return
    table = FitTable(
        (
            Col("account"),
            Col("reports", right=True),
            Col("cases", right=True),
            Col("categories", wrap=True),
            Col("first", priority=1),
            Col("last"),
        ),
        title=f"{len(rows)} people with {min_reports}+ reports, {_title(start, end, settings)}",
    )
    for row in rows:
        table.add_row(
            shown_person(row.network, row.author_id, row.author_username),
            str(row.reports),
            str(row.cases),
            ", ".join(f"{c.category} {c.reports}" for c in row.categories),
            _local(row.first_at, settings),
            _local(row.last_at, settings),
        )
    console.print(table)


@export_app.command("cases")
@friendly_errors
def export_cases_command(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="csv or geojson.")
    ] = ExportFormat.CSV,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write here instead of to standard output.", dir_okay=False
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help=f"Only cases opened since: {SINCE_FORMS}.")
    ] = None,
) -> None:
    """Every case, for a spreadsheet (CSV) or a GIS (GeoJSON points; cases without a location
    are left out and counted)."""
    settings, _ = _started(ctx)
    cases = _cases(settings, None)
    if since is not None:
        start = moment(since, "--since", settings.zone)
        cases = [c for c in cases if c.created_at >= start]
    # Who reported each case, as every command shows a person (a phone number masked).
    cases = [
        replace(
            c,
            author_id=shown_id(c.network, c.author_id),
            author_username=shown_handle(c.author_username),
        )
        for c in cases
    ]
    if fmt is ExportFormat.CSV:
        text, written, note = exports.cases_csv(cases), len(cases), ""
    else:
        result = exports.cases_geojson(cases)
        text = json.dumps(result.collection, ensure_ascii=False, indent=1) + "\n"
        written = len(cases) - result.omitted
        # A GIS layer has no place for a case without a point: say so, and what to do about it.
        note = (
            f"{result.omitted} without a location left out (a GeoJSON feature needs a point; "
            "`--format csv` has every case)"
            if result.omitted
            else ""
        )
    if output is None:
        print_data(text)
        if note:
            typer.echo(f"{written} case(s) written; {note}", err=True)
    else:
        output.write_text(masked_in(text), encoding="utf-8")
        said = f"{written} case(s) written to {output}" + (f"; {note}" if note else "")
        typer.echo(said, err=True)


def _shown_record(row: reports.Reporter) -> dict[str, str | int | float | None]:
    """`row` for `--json`/`--csv`, the person as every command shows them."""
    return row.to_record() | {
        "author_id": shown_id(row.network, row.author_id),
        "author_username": shown_handle(row.author_username),
    }


def _cases(settings: Settings, until: datetime | None) -> list[reports.CaseFacts]:
    engine = open_database(settings)
    try:
        return case_facts(engine, until=until)
    finally:
        engine.dispose()


def _engagement(
    settings: Settings, start: datetime, end: datetime, now: datetime
) -> reports.Engagement:
    engine = open_database(settings)
    try:
        cut = min(end, now)
        messages = message_facts(engine, since=start, until=cut)
        inbox = inbox_facts(engine, since=start, until=cut)
    finally:
        engine.dispose()
    return reports.engagement(messages, inbox, since=start, until=end, now=now)


def _engagement_records(talk: reports.Engagement) -> list[dict[str, str | int | float | None]]:
    return [row.to_record() for row in (*talk.rows, talk.total)]


def _without_key(
    record: dict[str, str | int | float | None],
) -> dict[str, str | int | float | None]:
    return {k: v for k, v in record.items() if k != "key"}


def _printed(records: Sequence[Mapping[str, object]], fmt: Format) -> bool:
    """Print `records` as JSON or CSV when `fmt` asks for it; False means: draw the table."""
    if fmt is Format.JSON:
        print_json(records, default=str)
        return True
    if fmt is Format.CSV:
        _print_csv(records)
        return True
    return False


def _print_csv(records: Sequence[Mapping[str, object]]) -> None:
    if not records:
        return
    buffer = io.StringIO()
    # Every record's columns, in the order first seen: a later row may carry more (the total's).
    fields = list(dict.fromkeys(k for record in records for k in record))
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for record in records:  # names from the catalog and districts files: for spreadsheets too
        writer.writerow(
            {k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in record.items()}
        )
    print_data(buffer.getvalue())


def _title(start: datetime, end: datetime, settings: Settings) -> str:
    return f"{_local(start, settings)} to {_local(end, settings)} ({settings.timezone})"


def _local(moment: datetime, settings: Settings) -> str:
    return local_time(moment, settings.zone, with_zone=False)


def _duration(span: timedelta | None) -> str:
    if span is None:
        return "-"
    hours = span.total_seconds() / 3600
    if hours < 10:
        return f"{hours:.1f} h"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def summary_table(
    rows: Sequence[reports.SummaryRow], by: reports.GroupBy | None, title: str
) -> FitTable:
    """The report's figures, a row per group and the total. Short headers (the README and
    `--format json` spell them out: median/p90 are times to resolve, backlog the age of open
    cases); on 80 columns the report count, the closed count and the oldest backlog go first."""
    table = FitTable(
        (
            # A department's name ("Parks and Recreation – Urban Forestry") is the free text here:
            # it wraps, so that no figure is folded over two lines.
            Col(by.value if by else "", wrap=True),
            Col("opened", right=True),
            Col("reports", right=True, priority=3),
            Col("resolved", right=True),
            Col("closed", right=True, priority=2),
            Col("open", right=True),
            Col("overdue", right=True),
            Col("median", right=True),
            Col("p90", right=True),
            Col("in SLA", right=True),
            Col("backlog", right=True),
            Col("oldest", right=True, priority=1),
        ),
        title=title,
        box=None,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style="bold underline",
    )
    for row in rows:
        table.add_row(
            "total" if row.key == reports.TOTAL_KEY else (row.key or "(none)"),
            str(row.opened),
            str(row.reports),
            str(row.resolved),
            str(row.closed),
            str(row.open),
            str(row.overdue),
            _duration(row.median_to_resolve),
            _duration(row.p90_to_resolve),
            _share(row.within_sla),
            _duration(row.backlog_median_age),
            _duration(row.backlog_oldest_age),
        )
    return table


# What each figure is called, in the order a council reads them (see `socialbot.reports`).
ENGAGEMENT_FIGURES = (
    "messages in",
    "reports filed (cases opened)",
    "reports linked to an existing case",
    "questions answered automatically",
    "messages answered by staff",
    "median time to a staff answer",
    "p90 time to a staff answer",
    "closed without a reply",
    "unanswered now",
    "age of the oldest unanswered",
)
NONE_YET = "–"  # no staff answer in the window, nothing waiting: no time to show


def _span(span: timedelta | None) -> str:
    return NONE_YET if span is None else reports.span_text(span)


def engagement_table(talk: reports.Engagement, title: str) -> FitTable:
    """A row per figure, a column per channel and the total (one channel: its column alone, the
    total would repeat it). On a narrow terminal the last channels are left out, never the
    total; a figure's name wraps, a number never does."""
    rows = list(talk.rows) if len(talk.rows) == 1 else [*talk.rows, talk.total]
    table = FitTable(
        (
            Col("", wrap=True, narrowest=20),
            *(
                Col(row.key, right=True, priority=0 if row is talk.total else i + 1)
                for i, row in enumerate(rows)
            ),
        ),
        title=f"Residents' messages, {title}",
        box=None,
        pad_edge=False,
        # Two spaces between columns: a time is two words ("3 h 20 min"), a column is not.
        padding=(0, 1),
        header_style="bold underline",
    )
    columns = [
        (
            str(row.messages_in),
            str(row.reports_filed),
            str(row.reports_linked),
            str(row.answered_automatically),
            str(row.answered_by_staff),
            _span(row.median_to_staff_answer),
            _span(row.p90_to_staff_answer),
            str(row.closed_without_reply),
            str(row.unanswered),
            _span(row.oldest_unanswered_age),
        )
        for row in rows
    ]
    for index, figure in enumerate(ENGAGEMENT_FIGURES):
        table.add_row(figure, *(column[index] for column in columns))
    return table
