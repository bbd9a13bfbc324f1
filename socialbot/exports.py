"""Cases out of socialbot: CSV for spreadsheets, GeoJSON for GIS, a weekly chart for the council.

All three take the same :class:`~socialbot.reports.CaseFacts` the reports use, so an export and a
report over the same cases always agree. Text is returned (CSV) or a JSON-ready dict (GeoJSON);
the caller writes it where asked. The chart is the one function here that writes a file, because
matplotlib renders straight to one.

Every text column comes from the catalog, the districts file or X handles (letters, digits and
'_'), never from what residents wrote, so the CSV needs no guard against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path

from socialbot.errors import ConfigError
from socialbot.reports import CaseFacts, GroupBy, summary, week_key

# One row per case; GeoJSON properties are the same minus lat/lon (they are the geometry).
CSV_COLUMNS = (
    "id",
    "category",
    "department",
    "district",
    "status",
    "created_at",
    "resolved_at",
    "closed_at",
    "due_at",
    "author_id",
    "author_username",
    "lat",
    "lon",
    "cell",
    "reporter_count",
    "duplicate_of",
)
_POINT_COLUMNS = ("lat", "lon")
JsonValue = str | int | float | None
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"): `=HYPERLINK(…)` in a department typed by staff, or in a district name.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """`value`, but text a spreadsheet would run as a formula gets a leading `'`, which shows the
    text as typed. Numbers (a negative longitude) are left alone: they are not formulas."""
    if not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def case_record(case: CaseFacts) -> dict[str, JsonValue]:
    """One case as flat JSON values: times in ISO 8601 UTC, absent values None."""
    return {
        "id": case.id,
        "category": case.category,
        "department": case.department,
        "district": case.district,
        "status": str(case.status),
        "created_at": _iso(case.created_at),
        "resolved_at": _iso(case.resolved_at),
        "closed_at": _iso(case.closed_at),
        "due_at": _iso(case.due_at),
        "author_id": case.author_id,
        "author_username": case.author_username,
        "lat": case.lat,
        "lon": case.lon,
        "cell": case.cell,
        "reporter_count": case.reporter_count,
        "duplicate_of": case.duplicate_of,
    }


def cases_csv(cases: Iterable[CaseFacts]) -> str:
    """RFC 4180 CSV with a header row (:data:`CSV_COLUMNS`); an absent value is an empty field,
    and text a spreadsheet would run as a formula starts with `'` (:func:`spreadsheet_safe`).

    Coordinates are written with every digit Python keeps (``repr``), so reading the file back
    gives the same floats; times are ISO 8601 with ``+00:00``, which Excel, LibreOffice and QGIS
    read as UTC.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for case in cases:
        record = case_record(case)
        writer.writerow(
            ["" if record[c] is None else spreadsheet_safe(str(record[c])) for c in CSV_COLUMNS]
        )
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class CasesGeoJSON:
    """A GeoJSON FeatureCollection of the located cases, and how many had no location."""

    collection: dict[str, object]
    omitted: int  # cases without a location: a GIS layer has no place for them; say so


def cases_geojson(cases: Iterable[CaseFacts]) -> CasesGeoJSON:
    """Point features (RFC 7946: ``[lon, lat]``, WGS 84), one per located case, id = case id.

    Cases without a location are left out and counted, rather than given a null geometry that
    many GIS tools reject or drop silently.
    """
    features: list[dict[str, object]] = []
    omitted = 0
    for case in cases:
        if case.lat is None or case.lon is None:
            omitted += 1
            continue
        record = case_record(case)
        properties = {k: v for k, v in record.items() if k not in _POINT_COLUMNS}
        features.append(
            {
                "type": "Feature",
                "id": case.id,
                "geometry": {"type": "Point", "coordinates": [case.lon, case.lat]},
                "properties": properties,
            }
        )
    return CasesGeoJSON({"type": "FeatureCollection", "features": features}, omitted)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


# ---------------------------------------------------------------------------------------------
# The weekly chart

_DPI = 150
_SLIDE_INCHES = (2000 / _DPI, 1125 / _DPI)  # 2000 x 1125 pixels: a 16:9 slide
_OTHER = "Other"
_OTHER_COLOUR = "#b0b0b0"
_LINE_COLOUR = "#222222"


def weekly_chart(
    cases: Iterable[CaseFacts],
    path: Path,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    zone: tzinfo = UTC,
    top_categories: int = 5,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Path:
    """Draw the weekly volume by category and the SLA share as a PNG for a council slide.

    Bars: cases opened each ISO week (in ``zone``), stacked by the ``top_categories`` busiest
    categories of the window, the rest as "Other". Line (right axis): the share of that week's
    resolved cases that met their target, the same figure as ``report --by week``; a week with
    nothing to measure leaves a gap rather than a misleading 0 %. ``labels`` maps category keys
    to display names (the catalog's English names). Returns ``path``.

    matplotlib is imported here, not at module level: it takes a second to import and only this
    command needs it. The Agg canvas is used directly (no pyplot), so nothing tries to open a
    window and nothing global is left behind.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    cases = list(cases)
    report = summary(cases, since=since, until=until, now=now, by=GroupBy.WEEK, zone=zone)
    weeks = [row.key or "" for row in report.rows]
    counts = _weekly_counts(cases, weeks, report.since, report.until, zone)
    series = _stack(counts, top_categories)
    names = dict(labels or {})

    figure = Figure(figsize=_SLIDE_INCHES, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(weeks)))
    bottoms = [0] * len(weeks)
    colours = _colours([category for category, _ in series])
    for (category, values), colour in zip(series, colours, strict=True):
        label = _OTHER if category is None else names.get(category, category)
        axes.bar(positions, values, bottom=bottoms, color=colour, label=label, width=0.7)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_ylabel("Cases opened", fontsize=16)
    axes.set_xlim(-0.5, len(weeks) - 0.5)
    # At most about 16 labels: a year of weeks would otherwise print on top of each other.
    step = max(1, math.ceil(len(weeks) / 16))
    ticks = positions[::step]
    axes.set_xticks(ticks, [_week_label(weeks[i]) for i in ticks], fontsize=12)
    axes.tick_params(axis="y", labelsize=13)
    axes.set_ylim(0, max([*bottoms, 1]) * 1.15)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)

    share_axes = axes.twinx()
    shares = [math.nan if r.within_sla is None else 100 * r.within_sla for r in report.rows]
    share_axes.plot(
        positions,
        shares,
        color=_LINE_COLOUR,
        marker="o",
        linewidth=2.5,
        markersize=8,
        label="Resolved within target (%)",
    )
    for x, share in zip(positions, shares, strict=True):
        if not math.isnan(share):
            share_axes.annotate(
                f"{share:.0f}%", (x, share), xytext=(0, 10), textcoords="offset points",
                ha="center", fontsize=13, color=_LINE_COLOUR,
            )  # fmt: skip
    share_axes.set_ylim(0, 110)
    share_axes.set_ylabel("Resolved within target (%)", fontsize=16)
    share_axes.tick_params(axis="y", labelsize=13)
    share_axes.spines[["top"]].set_visible(False)

    if not any(bottoms):
        axes.text(
            0.5, 0.5, "No cases opened in this period", transform=axes.transAxes, ha="center",
            va="center", fontsize=20, color="#666666",
        )  # fmt: skip
    handles, texts = axes.get_legend_handles_labels()
    line_handles, line_texts = share_axes.get_legend_handles_labels()
    # Reversed, so the legend reads top to bottom like the stack.
    axes.legend(
        [*reversed(handles), *line_handles],
        [*reversed(texts), *line_texts],
        loc="upper left",
        bbox_to_anchor=(1.08, 1.0),
        fontsize=13,
        frameon=False,
    )
    period = _period(report.since, report.until, zone)
    figure.suptitle(title or f"Cases opened by week, {period}", fontsize=22)
    try:
        figure.savefig(path, format="png")
    except OSError as exc:
        raise ConfigError(f"cannot write the chart to {path}: {exc.strerror or exc}") from None
    return path


def _weekly_counts(
    cases: Sequence[CaseFacts], weeks: Sequence[str], since: datetime, until: datetime, zone: tzinfo
) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {week: Counter() for week in weeks}
    for case in cases:
        if since <= case.created_at < until:
            counts[week_key(case.created_at, zone)][case.category] += 1
    return counts


def _stack(counts: Mapping[str, Counter[str]], top: int) -> list[tuple[str | None, list[int]]]:
    """(category, count per week) for the busiest ``top`` categories, then None for the rest."""
    overall: Counter[str] = Counter()
    for week in counts.values():
        overall.update(week)
    ranked = sorted(overall, key=lambda c: (-overall[c], c))
    shown = ranked[:top] if len(ranked) > top + 1 else ranked  # never an "Other" of one
    series: list[tuple[str | None, list[int]]] = [
        (category, [week[category] for week in counts.values()]) for category in shown
    ]
    rest = [c for c in ranked if c not in shown]
    if rest:
        series.append((None, [sum(week[c] for c in rest) for week in counts.values()]))
    return series


def _colours(categories: Sequence[str | None]) -> list[str]:
    """A colour-blind-safe palette (Okabe-Ito) for the categories, grey for "Other" (None)."""
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
    return [
        _OTHER_COLOUR if category is None else palette[i % len(palette)]
        for i, category in enumerate(categories)
    ]


def _week_label(key: str) -> str:
    """``2026-W47`` → ``W47`` over the date of its Monday (``16 Nov``)."""
    monday = datetime.strptime(key + "-1", "%G-W%V-%u")
    return f"W{key[-2:]}\n{monday.day} {monday:%b}"


def _period(since: datetime, until: datetime, zone: tzinfo) -> str:
    """``2 – 22 Nov 2026``, ``26 Oct – 22 Nov 2026`` or ``28 Dec 2026 – 3 Jan 2027``: the local
    days the window covers (``until`` is excluded, so a window ending at midnight ends the day
    before)."""
    first = since.astimezone(zone)
    last = until.astimezone(zone)
    if last.time() == time(0):
        last -= timedelta(days=1)
    end = f"{last.day} {last:%b %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} – {end}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {end}"
    return f"{first.day} {first:%b %Y} – {end}"
