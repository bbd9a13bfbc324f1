"""Resident and staff text on a staff terminal is plain text: markup is shown as typed (never a
crash, never a link) and control characters as escapes (never run by the terminal); `--json` and
`--csv` carry the same text exactly, and CSV for spreadsheets never starts a formula."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialbot.cli.common import console
from socialbot.cli.render import case_detail_table, cases_table, visible
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.store.db import transaction
from socialbot.store.models import Case, CaseEvent, MentionRecord, OutboxMessage, OutboxState
from socialbot.store.queries import CaseDetail
from tests.cli.run import invoke

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# Rich markup that crashed `cases show` ([/]) or became a clickable link, a screen clear, an OSC 8
# hyperlink, a C1 CSI, a carriage return that overwrites the line, and a right-to-left override.
HOSTILE = (
    "[/] [link=https://evil.example/login]log in[/link] [bold red]urgent[/] \x1b[2J"
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x9b31m \u202egpj.exe\r:smile:"
)
# Raw in terminal output, any of these acts on the terminal (ESC, CSI, OSC, BEL, CR, bidi…).
RAW_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def case_row(text: str, handle: str | None, *, category: str = "pothole", **more: object) -> Case:
    fields: dict[str, object] = {
        "category": category,
        "department": "Public Works",
        "priority": "normal",
        "status": CaseStatus.NEW,
        "location_source": "none",
        "lang": "en",
        "platform": "x",
        "mention_post_id": "1001",
        "author_id": "42",
        "author_username": handle,
        "description": text,
        "created_at": AT,
        "updated_at": AT,
        "place_name": text[:256],
    }
    return Case(**(fields | more))


def detail(text: str, handle: str | None, note: str, *, ids: bool = False) -> CaseDetail:
    case = case_row(text, handle, id=1 if ids else None)
    mention = MentionRecord(
        platform="x",
        account="intake",
        post_id="1001",
        author_id="42",
        author_username=handle,
        text=text,
        created_at=AT,
        received_at=AT,
        outcome=MentionOutcome.CASE_OPENED,
        raw="{}",
        case_id=case.id,
    )
    event = CaseEvent(case_id=case.id or 0, at=AT, actor=note[:128], to_status="new", note=note)
    reply = OutboxMessage(
        platform="x",
        account="intake",
        dedupe_key="reply:x:1001",
        template="filed",
        lang="en",
        text=note,
        state=OutboxState.PENDING,
        next_attempt_at=AT,
        created_at=AT,
    )
    return CaseDetail(case, [mention], [event], [reply])


@pytest.fixture
def hostile_db(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A case whose post, handle, place, note and reply all carry HOSTILE (no NUL: PostgreSQL
    cannot store one, see test_staff_input)."""
    row = detail(HOSTILE, "[/]\x1b[31m", HOSTILE)
    with transaction(engine) as session:
        session.add(row.case)
        session.flush()
        assert row.case.id is not None
        for item in (*row.mentions, *row.events, *row.replies):
            item.case_id = row.case.id
            session.add(item)
        case_id = row.case.id
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)
    yield case_id


def assert_plain(out: str) -> None:
    assert not RAW_CONTROL.search(out), repr(out)
    assert "[/]" in out and "[link=https://evil.example/login]log in[/link]" in out
    assert "[bold red]urgent[/]" in out and ":smile:" in out  # markup and emoji codes as typed
    assert "\\x1b[2J" in out and "\\x1b]8;;https://evil.example" in out
    assert "\\x9b31m" in out and "\\u202egpj.exe" in out and "\\x0d" in out


def test_cases_show_prints_resident_and_staff_text_as_plain_visible_text(hostile_db: int) -> None:
    code, out = invoke("cases", "show", str(hostile_db))
    assert code == 0, out
    assert_plain(out)
    assert "@[/]\\x1b[31m" in out


def test_cases_list_prints_handles_and_categories_as_plain_visible_text(
    hostile_db: int, engine: Engine
) -> None:
    with transaction(engine) as session:  # a category name as a city's YAML might spell it
        session.add(case_row("x", "maria", category="[red]pot\x1b[5mhole[/]"))
    code, out = invoke("cases", "list")
    assert code == 0, out
    assert not RAW_CONTROL.search(out), repr(out)
    assert "@[/]\\x1b[31m" in out and "[red]pot\\x1b[5mhole[/]" in out


def test_json_carries_the_text_exactly_with_nothing_raw_for_the_terminal(hostile_db: int) -> None:
    code, out = invoke("cases", "show", str(hostile_db), "--json")
    assert code == 0
    assert not RAW_CONTROL.search(out), repr(out)
    shown = json.loads(out)
    assert shown["description"] == HOSTILE
    assert shown["thread"][0]["author"] == "[/]\x1b[31m"
    assert shown["history"][0]["note"] == HOSTILE
    code, out = invoke("cases", "list", "--json")
    assert json.loads(out)[0]["place_name"] == HOSTILE


def test_csv_carries_the_text_exactly(hostile_db: int) -> None:
    code, out = invoke("cases", "list", "--csv")
    assert code == 0
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["place_name"], row["author"]) == (HOSTILE, "[/]\x1b[31m")


def test_csv_for_spreadsheets_never_starts_a_formula(hostile_db: int, engine: Engine) -> None:
    formula = '=HYPERLINK("https://evil.example/login","Open case")'
    with transaction(engine) as session:
        case = session.get(Case, hostile_db)
        assert case is not None
        case.department, case.lat, case.lon = formula, 42.35, -71.06
    code, out = invoke("cases", "list", "--csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["department"], row["lon"]) == ("'" + formula, "-71.06")  # numbers stay numbers
    code, out = invoke("export", "cases", "--format", "csv")
    assert code == 0
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["department"], row["lon"]) == ("'" + formula, "-71.06")


def test_visible_escapes_what_a_terminal_would_act_on_and_nothing_else() -> None:
    assert visible("Café 🚧 señal\n\tok") == "Café 🚧 señal\n\tok"
    assert visible("a\x1bb\x07\x00\x7f\x85\u202e\u2066\u200f\u2028\udcff") == (
        "a\\x1bb\\x07\\x00\\x7f\\x85\\u202e\\u2066\\u200f\\u2028\\udcff"
    )


# --- the property: any text at all renders, and nothing raw reaches the terminal --------------

EXAMPLES = int(os.environ.get("SOCIALBOT_FUZZ_EXAMPLES", "60"))
PIECES = st.sampled_from(
    [
        "[/]",
        "[link=https://evil.example]",
        "[/link]",
        "[bold]",
        "[",
        "]",
        "\\",
        ":smile:",
        "\x1b[31m",
        "\x1b]8;;https://evil.example\x07",
        "\x1b\\",
        "\x9b",
        "\x9d",
        "\x00",
        "\r",
        "\n",
        "\t",
        "\u202e",
        "\u2066",
        "\u200b",
        "\u200d",
        "\ufeff",
        "\udcff",
        "\ud800",
        "🚧",
        "é",
        "x" * 5000,
    ]
)
HOSTILE_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12).map("".join)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=HOSTILE_TEXT, handle=HOSTILE_TEXT, note=HOSTILE_TEXT)
def test_any_text_renders_in_cases_show_and_list_with_nothing_raw(
    text: str, handle: str, note: str
) -> None:
    shown = detail(text, handle, note, ids=True)
    with console.capture() as capture:
        console.print(case_detail_table(shown, UTC))
        console.print(cases_table([shown.case], UTC, title=f"1 case(s) {note}"))
    out = capture.get()
    assert not RAW_CONTROL.search(out), repr(out)
    assert not re.search("[\ud800-\udfff]", out)
    out.encode("utf-8")  # printable on any UTF-8 terminal


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_to_a_terminal_shows_control_characters_and_to_a_pipe_keeps_them_exact() -> None:
    from socialbot.cli.common import print_data
    from socialbot.cli.render import cases_csv

    text = cases_csv([case_row(HOSTILE, "[/]\x1b[31m")])
    terminal = FakeTerminal()
    print_data(text, file=terminal)
    shown = terminal.getvalue()
    # Nothing the terminal would run; every row still ends where it did.
    assert not RAW_CONTROL.search(shown.replace("\r\n", "\n")), repr(shown)
    assert "\\x1b]8;;https://evil.example" in shown and "\\x0d" in shown
    assert shown.count("\r\n") == text.count("\r\n") == 2
    pipe = io.StringIO()
    print_data(text, file=pipe)
    assert pipe.getvalue() == text
    (row,) = csv.DictReader(io.StringIO(pipe.getvalue()))
    assert row["place_name"] == HOSTILE
