"""How cases and replies look on a terminal and in JSON. Presentation only.

A phone number is personal data: a person of a network whose ids are personal (SMS) is shown
masked (`app.shown_person`, `app.shown_id`), and, whatever a text is (a resident's words that
hold their own number, a staff note, an error), every E.164 number printed through `visible`
or `json_text` is masked but its last two digits (`sms.phone.masked_in`), as in the logs.

Almost everything shown here came from outside: residents' posts and handles, staff notes, CSV
cells, category names from YAML. On a terminal all of it is plain text: `PlainConsole` never reads
rich markup (`[/]` cannot crash a command, `[link=…]` cannot become a link) and `visible` writes
every control character as an escape (`\\x1b`, `\\u202e`), so no text can move the cursor, set
a hyperlink (OSC 8), recolour the terminal or reverse the line. `json_text` keeps `--json` faithful
(the same data after parsing) with the same characters as JSON escapes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.console import (
    Console,
    ConsoleOptions,
    JustifyMethod,
    OverflowMethod,
    RenderResult,
)
from rich.highlighter import Highlighter
from rich.measure import Measurement
from rich.style import Style
from rich.table import Table
from rich.text import Text

from socialbot.app import shown_id, shown_person
from socialbot.exports import spreadsheet_safe
from socialbot.people import shown_handle
from socialbot.poller import Handled
from socialbot.sms.phone import masked_in
from socialbot.store.models import Case, CrmRequest, CrmState, MentionRecord, OutboxMessage
from socialbot.store.queries import CaseDetail
from socialbot.usage import BudgetState

# Shown as escapes: C0 controls but newline and tab (ESC starts every terminal sequence, CR
# overwrites the line), DEL and C1 controls (0x9b is CSI, 0x9d OSC on some terminals), the bidi
# controls that reorder what follows them (U+202E shows "gpj.exe" as "exe.jpg"), the Unicode line
# and paragraph separators, and lone surrogates (not text at all: printing one raises).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every character that could act on a terminal written as an escape, and every
    phone number in E.164 masked but its last two digits (`sms.phone.masked_in`)."""
    return _UNSAFE.sub(_escape, masked_in(text))


class PlainConsole(Console):
    """A console on which every string is plain text (no markup, no emoji codes), its control
    characters made visible. Tables, titles and prints all turn their strings into `Text` here,
    so no command can forget it; `Text` we build ourselves goes through `visible` itself.

    Its width is the terminal's at each print (rich would read COLUMNS once, when the console is
    made): tables fit the terminal they are printed on."""

    def __init__(self, *, width: int | None = None, **options: Any) -> None:
        super().__init__(width=width, **options)
        self._width = width

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: Highlighter | Callable[[str | Text], Text] | None = None,
    ) -> Text:
        return Text(visible(text), style=style, justify=justify, overflow=overflow)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def json_text(data: object, *, default: Callable[[Any], Any] | None = None) -> str:
    """`data` as indented JSON: non-ASCII letters as they are, every character `visible` escapes
    as a JSON escape (parsing gives back exactly `data`). Lone surrogates stay escaped too."""
    dumped = masked_in(json.dumps(data, ensure_ascii=False, indent=2, default=default))
    # json.dumps has already escaped C0 controls; what is left is C1, bidi, separators, surrogates.
    return _UNSAFE.sub(_json_escape, dumped)


# The keys of `case_json`, in order: the CSV's columns.
CASE_FIELDS = (
    "id",
    "category",
    "department",
    "priority",
    "status",
    "lat",
    "lon",
    "location_source",
    "place_name",
    "photo_urls",
    "mention_id",
    "network",
    "platform",
    "author",
    "author_id",
    "lang",
    "created_at",
    "updated_at",
    "district",
    "due_at",
    "resolved_at",
    "reporter_count",
    "duplicate_of",
    "address",
)


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "category": case.category,
        "department": case.department,
        "priority": case.priority,
        "status": case.status.value,
        "lat": case.lat,
        "lon": case.lon,
        "location_source": case.location_source,
        "place_name": case.place_name,
        "photo_urls": list(case.photo_urls),
        "mention_id": case.mention_post_id,
        "network": case.platform,  # "x", "mastodon": where the case came from, is answered
        "platform": case.platform,  # the same, under the name older scripts read
        "author": shown_handle(case.author_username),
        "author_id": shown_id(case.platform, case.author_id),
        "lang": case.lang,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "district": case.district,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "reporter_count": case.reporter_count,
        "duplicate_of": case.duplicate_of,
        "address": case.address,  # as the resident wrote it, geocoded or not
    }


def case_detail_json(detail: CaseDetail) -> dict[str, Any]:
    return case_json(detail.case) | {
        "description": detail.case.description,
        "history": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in detail.events
        ],
        "replies": [reply_json(r) for r in detail.replies],
        "thread": [mention_json(m) for m in detail.mentions],
        "crm": crm_json(detail.crm) if detail.crm is not None else None,
    }


def crm_json(row: CrmRequest) -> dict[str, Any]:
    """A case's request in the city's Open311 CRM: our queue's state, the CRM's id and its last
    word (its notes are for staff: shown here, never posted)."""
    return {
        "state": row.state.value,
        "service_code": row.service_code,
        "service_request_id": row.service_request_id,
        "token": row.token,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "status": row.crm_status,
        "extended_status": row.crm_extended_status,
        "status_notes": row.crm_status_notes,
        "updated_at": row.crm_updated_at.isoformat() if row.crm_updated_at else None,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "synced_at": row.synced_at.isoformat() if row.synced_at else None,
    }


def crm_lines(row: CrmRequest, zone: ZoneInfo) -> list[tuple[str, str]]:
    """`cases show`'s lines of the case's CRM request: where it stands, what the CRM says (its
    times in `zone`)."""
    service = f"service {row.service_code}"
    if row.state is CrmState.REJECTED:
        lines = [("crm", f"NOT ACCEPTED by the CRM ({service}): {row.last_error or '?'}")]
    elif row.service_request_id is not None:
        lines = [("crm", f"request {row.service_request_id} ({service})")]
    elif row.state is CrmState.TOKEN:
        lines = [("crm", f"accepted, token {row.token}, its request id not given yet ({service})")]
    else:
        retry = f"; last try: {row.last_error}" if row.last_error else ""
        lines = [
            (
                "crm",
                f"queued ({service}), {row.attempts} attempt(s), next at "
                f"{local(row.next_attempt_at, zone, '%Y-%m-%d %H:%M %Z')}{retry}",
            )
        ]
    if row.crm_status is not None:
        status = row.crm_status + (
            f" ({row.crm_extended_status})" if row.crm_extended_status else ""
        )
        when = (
            f" at {local(row.crm_updated_at, zone, '%Y-%m-%d %H:%M %Z')}"
            if row.crm_updated_at
            else ""
        )
        lines.append(("crm status", status + when))
    if row.crm_status_notes:
        lines.append(("crm notes", row.crm_status_notes))
    return lines


def mention_json(row: MentionRecord) -> dict[str, Any]:
    return {
        "post_id": row.post_id,
        "author": shown_handle(row.author_username),
        "text": row.text,
        "created_at": row.created_at.isoformat(),
        "outcome": row.outcome.value,
    }


def cases_csv(cases: Sequence[Case]) -> str:
    """The fields of `case_json`, a header row first; photo URLs joined with a space; text that a
    spreadsheet would run as a formula starts with `'` (see `exports.spreadsheet_safe`)."""
    out = io.StringIO()
    # CRLF (RFC 4180): Python quotes a field holding a line break only if it is in the terminator,
    # and a lone CR in a post would otherwise split a row for every CSV reader.
    writer = csv.DictWriter(out, fieldnames=CASE_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for case in cases:
        row = {k: " ".join(v) if isinstance(v, list) else v for k, v in case_json(case).items()}
        writer.writerow(
            {k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in row.items()}
        )
    return out.getvalue()


def reply_json(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "in_reply_to": row.in_reply_to_post_id,
        "template": row.template,
        "lang": row.lang,
        "text": row.text,
        "state": row.state.value,
        "attempts": row.attempts,
        "posted_id": row.posted_id,
        "last_error": row.last_error,
    }


def location_text(case: Case) -> str:
    if case.lat is None or case.lon is None:
        return "—"
    return f"{case.lat:.5f},{case.lon:.5f}"


def cases_table(cases: list[Case], zone: ZoneInfo, title: str) -> FitTable:
    """`cases list`: on 80 columns the case, its status, category, when it was opened and by
    whom; the location, how it was found and the photo count where there is room."""
    zone_name = zone_label(zone, (c.created_at for c in cases))
    table = FitTable(
        (
            Col("case"),
            Col("status"),
            Col("category"),
            Col("location", priority=2),
            Col("via", priority=4),
            Col("photos", priority=3, right=True),
            Col("reporter", priority=1),
            Col(f"opened ({zone_name})", short=f"opened\n({zone_name})"),
        ),
        title=title,
    )
    for case in cases:
        table.add_row(
            f"#{case.id}",
            case.status.value,
            case.category,
            location_text(case),
            case.location_source if case.lat is not None else "—",
            str(len(case.photo_urls)),
            shown_person(case.platform, case.author_id, case.author_username),
            local(case.created_at, zone, "%m-%d %H:%M"),
        )
    return table


def map_link(case: Case) -> str:
    """The case's place on OpenStreetMap, a marker on it; short enough for one line of 80."""
    if case.lat is None or case.lon is None:
        return "—"
    return f"https://www.openstreetmap.org/?mlat={case.lat:.5f}&mlon={case.lon:.5f}&zoom=18"


def case_detail_table(detail: CaseDetail, zone: ZoneInfo) -> FitTable:
    """`cases show`: one field a line, the value wrapping under itself; every time in `zone`,
    with its abbreviation."""
    case = detail.case

    def when(moment: datetime) -> str:
        return local(moment, zone, "%Y-%m-%d %H:%M %Z")

    rows = [
        ("status", case.status.value),
        ("category", f"{case.category} ({case.department}, {case.priority})"),
        (
            "location",
            location_text(case)
            + f" ({case.location_source})"
            + (f" — {case.place_name}" if case.place_name else ""),
        ),
        *([("address", case.address)] if case.address else []),
        ("map", map_link(case)),
        ("photos", "\n".join(case.photo_urls) or "—"),
        (
            "reporter",
            f"{shown_person(case.platform, case.author_id, case.author_username)} "
            f"({case.platform} post {case.mention_post_id})",
        ),
        ("text", case.description),
        ("opened", when(case.created_at)),
    ]
    for event in detail.events:
        rows.append(
            (
                "history",
                f"{when(event.at)} {event.actor}: "
                f"{event.from_status or '—'} → {event.to_status}"
                + (f" — {event.note}" if event.note else ""),
            )
        )
    for mention in detail.mentions:
        who = shown_person(mention.platform, mention.author_id, mention.author_username)
        rows.append(("thread", f"{when(mention.created_at)} {who}: {mention.text}"))
    for reply in detail.replies:
        rows.append(("reply", f"({reply.state.value}) {reply.text}"))
    if detail.crm is not None:
        rows += crm_lines(detail.crm, zone)
    return field_list(rows, f"Case #{case.id}")


def field_list(rows: list[tuple[str, str]], title: str) -> FitTable:
    """Fields and their values, borderless: the value column gets all but the field names, so
    a map link or a long id stays whole and the rest wraps under its value."""
    return FitTable(
        (Col("field"), Col("value", wrap=True)),
        rows,
        title=title,
        show_header=False,
        box=None,
        pad_edge=False,
    )


def handled_table(handled: list[Handled], title: str) -> FitTable:
    """What happened to each mention of a poll: the demo's and `poll --once`'s main output. On
    80 columns the location source and the post's id go first; the reason wraps."""
    table = FitTable(
        (
            Col("post", priority=2),
            Col("from"),
            Col("outcome"),
            Col("case"),
            Col("category", priority=1),
            Col("location", priority=3),
            Col("why", wrap=True, narrowest=14),
        ),
        title=title,
    )
    for item in handled:
        table.add_row(
            item.post_id[-6:],
            f"@{item.author}" if item.author else "?",
            item.decision.outcome.value,
            f"#{item.case_id}" if item.case_id is not None else "—",
            item.decision.category.key if item.decision.category else "—",
            item.decision.location.source.value if item.decision.location else "—",
            item.decision.detail,
        )
    return table


def replies_table(rows: list[OutboxMessage], title: str) -> FitTable:
    table = FitTable(
        (
            Col("in reply to", short="post"),
            Col("lang", priority=1),
            Col("state"),
            Col("text", wrap=True),
        ),
        title=title,
    )
    for r in rows:
        table.add_row((r.in_reply_to_post_id or "—")[-6:], r.lang, r.state.value, r.text)
    return table


def against_budget(budget: BudgetState) -> str:
    """`` of $50.00 budget; non-essential replies held from $45.00``, as usage and status say it."""
    if budget.budget is None or budget.hold_at is None:
        return "; no monthly budget set"
    held = (
        "HOLDING non-essential replies"
        if budget.holding_non_essential
        else "non-essential replies held"
    )
    return f" of ${budget.budget:,.2f} budget; {held} from ${budget.hold_at:,.2f}"


# --- Tables that fit the terminal -------------------------------------------------------------
#
# A table is printed at the width the console has (80 columns on a plain terminal, more on a wide
# one). `FitTable` chooses its columns when it is printed, not when it is built: every column is
# as wide as its widest cell; when that is too wide, the free-text columns (`wrap`) wrap, headers
# take their short form, and then the least useful columns (the highest `priority`) are left out,
# one at a time, until the rest fits. A cell that is not free text (a number, an id, a handle, a
# URL, a time) is never broken or cut. `--json` and `--csv` are where every field always is.

ALWAYS = 0  # `Col.priority` of a column that is never left out


@dataclass(frozen=True, slots=True)
class Col:
    """One column: `priority` 0 is always shown, else the highest number is left out first;
    `wrap` marks free text, which may wrap over lines (down to `narrowest` columns before a
    column is left out instead); `short` is the header when space is short."""

    header: str
    priority: int = ALWAYS
    wrap: bool = False
    right: bool = False
    short: str | None = None
    narrowest: int = 16


@dataclass(frozen=True, slots=True)
class Layout:
    """What `FitTable` chose for one width: the columns shown (by index), their headers and
    widths (of their text, padding and borders aside)."""

    shown: tuple[int, ...]
    headers: tuple[str, ...]
    widths: tuple[int, ...]


def _width_of(text: str) -> int:
    """Columns `text` takes on a terminal, as printed (control characters as escapes)."""
    return max((cell_len(line) for line in visible(text).split("\n")), default=0)


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in visible(text).split()), default=0)


class FitTable:
    """A rich table that fits the width it is printed at (see `Col`). Style keywords (`title`,
    `caption`, `show_lines`, `show_header`, `box`, `padding`, …) go to `rich.table.Table`."""

    def __init__(
        self, columns: Sequence[Col], rows: Iterable[Sequence[str]] = (), **style: Any
    ) -> None:
        self.columns = tuple(columns)
        self.rows: list[tuple[str, ...]] = []
        self.style = style
        for row in rows:
            self.add_row(*row)

    def add_row(self, *cells: str) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(tuple(cells))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        # The title and caption are free text: wrapped here, as a console that soft-wraps (ours)
        # would print them on one line, however long.
        if self.style.get("title"):
            yield Text(visible(self.style["title"])).wrap(console, width)
        yield self.table(self.layout(width, console))
        if self.style.get("caption"):
            yield Text(visible(self.style["caption"]), style="dim").wrap(console, width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(
            console, options, self.table(self.layout(options.max_width, console))
        )

    def _overhead(self, count: int, console: Console) -> int:
        """Borders and padding of a table of `count` columns, as rich lays it out."""
        probe = Table(**self._table_style())
        for _ in range(count):
            probe.add_column(no_wrap=True)
        probe.add_row(*("x" for _ in range(count)))
        options = console.options.update_width(10_000)
        return Measurement.get(console, options, probe).maximum - count

    def _table_style(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.style.items() if k not in ("title", "caption", "title_justify")
        }

    def layout(self, width: int, console: Console) -> Layout:
        """The columns shown at `width`, their headers and how wide each is: all of them, as wide
        as their cells, if that fits; else, by steps until it fits, free text wrapped, then the
        short headers, then the least useful column left out, and again."""
        count = len(self.columns)
        cells = [_width_of_cells(self.rows, i) for i in range(count)]
        words = [max((_longest_word(row[i]) for row in self.rows), default=0) for i in range(count)]
        full = [c.header for c in self.columns]
        short = [c.short or c.header for c in self.columns]
        overheads: dict[int, int] = {}

        def overhead(columns: int) -> int:
            if columns not in overheads:
                overheads[columns] = self._overhead(columns, console)
            return overheads[columns]

        def whole(i: int, headers: list[str]) -> int:
            return max(cells[i], _width_of(headers[i]))

        def least(i: int, headers: list[str]) -> int:
            column = self.columns[i]
            if not column.wrap:
                return whole(i, headers)
            # Not narrower than its longest word (a hashtag, a handle), up to twice `narrowest`.
            word = min(max(words[i], _longest_word(headers[i])), 2 * column.narrowest)
            return min(whole(i, headers), max(column.narrowest, word))

        def need(indexes: list[int], headers: list[str]) -> int:
            return overhead(len(indexes)) + sum(least(i, headers) for i in indexes)

        shown = list(range(count))
        if overhead(count) + sum(whole(i, full) for i in shown) <= width:
            return Layout(tuple(shown), tuple(full), tuple(whole(i, full) for i in shown))
        # The least useful last in this list: the highest priority number, the rightmost of equals.
        droppable = sorted(
            (i for i in shown if self.columns[i].priority != ALWAYS),
            key=lambda i: (self.columns[i].priority, i),
        )
        while True:
            headers = next((h for h in (full, short) if need(shown, h) <= width), None)
            if headers is not None or not droppable:
                break
            shown.remove(droppable.pop())
        headers = headers or short
        widths = {i: least(i, headers) for i in shown}
        room = width - need(shown, headers)
        # What is left goes to the free text, a column at a time, up to its widest cell.
        wrapping = [i for i in shown if self.columns[i].wrap]
        while room > 0:
            short_of = [i for i in wrapping if widths[i] < whole(i, headers)]
            if not short_of:
                break
            widths[min(short_of, key=lambda i: (widths[i], i))] += 1
            room -= 1
        return Layout(
            tuple(shown), tuple(headers[i] for i in shown), tuple(widths[i] for i in shown)
        )

    def table(self, layout: Layout) -> Table:
        """The rich table of `layout`."""
        table = Table(**self._table_style())
        for index, header, width in zip(layout.shown, layout.headers, layout.widths, strict=True):
            column = self.columns[index]
            # "fold", not "ellipsis": where even the columns always shown do not fit, rich breaks
            # a cell over lines rather than cutting it short.
            table.add_column(
                header,
                width=width,
                no_wrap=False,
                overflow="fold",
                justify="right" if column.right else "left",
            )
        for row in self.rows:
            table.add_row(*(row[i] for i in layout.shown))
        return table


def _width_of_cells(rows: Sequence[tuple[str, ...]], index: int) -> int:
    return max((_width_of(row[index]) for row in rows), default=0)


def zone_label(zone: ZoneInfo, moments: Iterable[datetime | None]) -> str:
    """`EST`: the zone's abbreviation when every moment shown has the same one, else the zone's
    name (`America/New_York`), for the header or title that says which zone times are in."""
    names = {m.astimezone(zone).tzname() for m in moments if m is not None}
    return names.pop() or zone.key if len(names) == 1 else zone.key


def local(moment: datetime, zone: ZoneInfo, form: str = "%Y-%m-%d %H:%M") -> str:
    """`moment` as the city's clock shows it, in `form` (strftime)."""
    return f"{moment.astimezone(zone):{form}}"
