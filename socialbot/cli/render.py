"""How cases and replies look on a terminal and in JSON. Presentation only.

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
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console, JustifyMethod, OverflowMethod
from rich.highlighter import Highlighter
from rich.style import Style
from rich.table import Table
from rich.text import Text

from socialbot.exports import spreadsheet_safe
from socialbot.poller import Handled
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
    """`text` with every character that could act on a terminal written as an escape."""
    return _UNSAFE.sub(_escape, text)


class PlainConsole(Console):
    """A console on which every string is plain text (no markup, no emoji codes), its control
    characters made visible. Tables, titles and prints all turn their strings into `Text` here,
    so no command can forget it; `Text` we build ourselves goes through `visible` itself."""

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
    dumped = json.dumps(data, ensure_ascii=False, indent=2, default=default)
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
        "author": case.author_username,
        "author_id": case.author_id,
        "lang": case.lang,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "district": case.district,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "reporter_count": case.reporter_count,
        "duplicate_of": case.duplicate_of,
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


def crm_lines(row: CrmRequest) -> list[tuple[str, str]]:
    """`cases show`'s lines of the case's CRM request: where it stands, what the CRM says."""
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
                f"{row.next_attempt_at:%Y-%m-%d %H:%M}{retry}",
            )
        ]
    if row.crm_status is not None:
        status = row.crm_status + (
            f" ({row.crm_extended_status})" if row.crm_extended_status else ""
        )
        when = f" at {row.crm_updated_at:%Y-%m-%d %H:%M}" if row.crm_updated_at else ""
        lines.append(("crm status", status + when))
    if row.crm_status_notes:
        lines.append(("crm notes", row.crm_status_notes))
    return lines


def mention_json(row: MentionRecord) -> dict[str, Any]:
    return {
        "post_id": row.post_id,
        "author": row.author_username,
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


def cases_table(cases: list[Case], title: str | None = None) -> Table:
    headers = ("case", "status", "category", "location", "via", "photos", "reporter", "opened UTC")
    rows = [
        (
            f"#{case.id}",
            case.status.value,
            case.category,
            location_text(case),
            case.location_source if case.lat is not None else "—",
            str(len(case.photo_urls)),
            f"@{case.author_username}" if case.author_username else case.author_id,
            case.created_at.strftime("%m-%d %H:%M"),
        )
        for case in cases
    ]
    # On a narrow terminal only the reporter's handle is cut short; the rest stay whole.
    return _table(title, headers, rows, flexible="reporter", cut=True)


def _table(
    title: str | None,
    headers: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
    *,
    flexible: str,
    cut: bool = False,
) -> Table:
    """Every column as wide as its widest cell, except `flexible`, which wraps (or is `cut`)."""
    table = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        widest = max([len(header), *(len(row[index]) for row in rows)])
        if header == flexible:
            table.add_column(header, no_wrap=cut, overflow="ellipsis" if cut else "fold")
        else:
            table.add_column(header, no_wrap=True, min_width=widest)
    for row in rows:
        table.add_row(*row)
    return table


def case_detail_table(detail: CaseDetail) -> Table:
    case = detail.case
    table = Table(show_header=False, title=f"Case #{case.id}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("status", case.status.value),
        ("category", f"{case.category} ({case.department}, {case.priority})"),
        (
            "location",
            location_text(case)
            + f" ({case.location_source})"
            + (f" — {case.place_name}" if case.place_name else ""),
        ),
        (
            "map",
            f"https://www.openstreetmap.org/?mlat={case.lat}&mlon={case.lon}#map=18/{case.lat}/{case.lon}"
            if case.lat is not None
            else "—",
        ),
        ("photos", "\n".join(case.photo_urls) or "—"),
        ("reporter", f"@{case.author_username} ({case.platform} post {case.mention_post_id})"),
        ("text", case.description),
        ("opened", case.created_at.isoformat()),
    ]
    for event in detail.events:
        rows.append(
            (
                "history",
                f"{event.at:%Y-%m-%d %H:%M} {event.actor}: "
                f"{event.from_status or '—'} → {event.to_status}"
                + (f" — {event.note}" if event.note else ""),
            )
        )
    for mention in detail.mentions:
        who = f"@{mention.author_username}" if mention.author_username else mention.author_id
        rows.append(("thread", f"{mention.created_at:%Y-%m-%d %H:%M} {who}: {mention.text}"))
    for reply in detail.replies:
        rows.append((f"reply ({reply.state.value})", reply.text))
    if detail.crm is not None:
        rows += crm_lines(detail.crm)
    for name, value in rows:
        table.add_row(name, value)
    return table


def handled_table(handled: list[Handled], title: str | None = None) -> Table:
    """What happened to each mention of a poll: the demo's and `poll --once`'s main output."""
    headers = ("post", "from", "outcome", "case", "category", "location", "why")
    rows = [
        (
            item.post_id[-6:],
            f"@{item.author}" if item.author else "?",
            item.decision.outcome.value,
            f"#{item.case_id}" if item.case_id is not None else "—",
            item.decision.category.key if item.decision.category else "—",
            item.decision.location.source.value if item.decision.location else "—",
            item.decision.detail,
        )
        for item in handled
    ]
    return _table(title, headers, rows, flexible="why")


def replies_table(rows: list[OutboxMessage], title: str | None = None) -> Table:
    headers = ("in reply to", "lang", "state", "text")
    cells = [((r.in_reply_to_post_id or "—")[-6:], r.lang, r.state.value, r.text) for r in rows]
    return _table(title, headers, cells, flexible="text")


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
