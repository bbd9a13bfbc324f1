"""Every table at 80 columns and at 200, in the city's time zone.

A plain terminal is 80 columns wide: no line of a command's output may be wider, no id, number or
URL may be broken or cut, and the columns left out are the least useful ones. A wide terminal gets
every column. `FitTable` (socialbot.cli.render) does it for every table; the properties below
hold for any cell contents."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from socialbot.cli.render import Col, FitTable, PlainConsole
from tests.cli.run import invoke

ZONE = "America/New_York"


@pytest.fixture(scope="module")
def week_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo's database after its week of staff work, made once for the module."""
    db = tmp_path_factory.mktemp("week") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "200")
        code, _ = invoke("demo", "--db", str(db))
    assert code == 0
    yield db


@pytest.fixture
def city(week_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "demo.db"
    shutil.copyfile(week_template, db)
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", ZONE)
    return db


def run_at(columns: int, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out = invoke(*args)
    assert code == 0, out
    return out


def widest(out: str) -> int:
    return max(cell_len(line) for line in out.splitlines())


COMMANDS = [
    ("cases", "list"),
    ("cases", "show", "1"),
    ("cases", "show", "10"),
    ("report",),
    ("report", "--by", "week"),
    ("report", "--by", "district"),
    ("report", "hotspots"),
    ("report", "reporters", "--min", "1"),
    ("report", "engagement"),
    ("usage",),
    ("blocked",),
    ("broadcast", "templates"),
    ("broadcast", "log"),
    ("broadcast", "list"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_line_is_wider_than_80_columns(
    city: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    out = run_at(80, monkeypatch, *args)
    assert widest(out) <= 80, out


def test_cases_list_keeps_the_case_status_category_reporter_and_time_at_80(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = run_at(80, monkeypatch, "cases", "list")
    wide = run_at(200, monkeypatch, "cases", "list")
    cases = json.loads(run_at(200, monkeypatch, "cases", "list", "--json"))
    for case in cases:
        assert f"#{case['id']} " in narrow
        assert f"@{case['author']}" in narrow  # a handle is never cut
        assert f"{case['lat']:.5f},{case['lon']:.5f}" in wide if case["lat"] else True
    # What goes first on a narrow terminal: how the place was found, the photo count, the place.
    assert headers(narrow) == ["case", "status", "category", "reporter", "opened (EST)"]
    assert headers(wide) == [
        "case",
        "status",
        "category",
        "location",
        "via",
        "photos",
        "reporter",
        "opened (EST)",
    ]


def headers(out: str) -> list[str]:
    """The header of a boxed table, its lines joined (a short header may take two)."""
    lines = [line for line in out.splitlines() if line.startswith("┃")]
    cells = [[cell.strip() for cell in line.strip("┃").split("┃")] for line in lines]
    return [" ".join(part for part in parts if part) for parts in zip(*cells, strict=True)]


def test_cases_list_prints_the_city_time_and_json_keeps_utc_with_its_offset(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = json.loads(run_at(200, monkeypatch, "cases", "list", "--json"))[0]
    assert case["created_at"].endswith("+00:00")  # machine output: unchanged, ISO with offset
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(case["created_at"]).astimezone(ZoneInfo(ZONE))
    row = next(
        line for line in run_at(200, monkeypatch, "cases", "list").splitlines() if "│ #1 " in line
    )
    assert f"{local:%m-%d %H:%M}" in row


def test_cases_show_keeps_the_map_link_and_post_id_whole_at_80(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run_at(80, monkeypatch, "cases", "show", "1")
    case = json.loads(run_at(200, monkeypatch, "cases", "show", "1", "--json"))
    link = f"https://www.openstreetmap.org/?mlat={case['lat']:.5f}&mlon={case['lon']:.5f}&zoom=18"
    assert link in out
    assert case["mention_id"] in out
    for url in case["photo_urls"]:
        assert url in out
    # Every time in the city's zone, saying which.
    history = [line for line in out.splitlines() if line.startswith("history ")]
    assert history and all(" EST " in line or " EDT " in line for line in history)


def test_report_keeps_every_figure_whole_at_80_and_shows_every_column_at_200(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = run_at(80, monkeypatch, "report", "--by", "week")
    rows = json.loads(run_at(200, monkeypatch, "report", "--by", "week", "--format", "json"))[
        "rows"
    ]
    weeks = [r["key"] for r in rows if r["key"] not in ("", None, "total")]
    assert weeks and all(re.search(rf"^{re.escape(w)} ", narrow, re.M) for w in weeks)
    assert "…" not in narrow
    for header in ("opened", "resolved", "open", "overdue", "median", "p90", "in SLA"):
        assert header in narrow.splitlines()[1]
    # Left out at 80 where category names are long: the report count, the closed count, then
    # the oldest backlog.
    narrow = run_at(80, monkeypatch, "report", "--by", "category")
    wide = run_at(200, monkeypatch, "report", "--by", "category")
    assert widest(narrow) <= 80
    # The cases' table: the residents' messages after it have words of their own ("reports filed").
    narrow, wide = (out.split("\nResidents' messages, ")[0] for out in (narrow, wide))
    for header in ("reports", "closed"):
        assert header not in narrow and header in wide


def test_plain_report_shows_a_row_per_category_and_the_total(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run_at(80, monkeypatch, "report")
    assert out.splitlines()[1].startswith("category")
    assert re.search(r"^pothole ", out, re.M)
    assert re.search(r"^total ", out, re.M)


def test_plain_report_ends_with_the_residents_messages_every_channel_whole_at_80(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run_at(80, monkeypatch, "report")
    rows = json.loads(run_at(200, monkeypatch, "report", "--format", "json"))["engagement"]
    assert widest(out) <= 80, out
    tail = out.split("\nResidents' messages, ", 1)[1].splitlines()
    assert tail[1].split() == [row["key"] for row in rows]  # the demo's three networks, total
    line = next(line for line in tail if line.startswith("messages in "))
    assert line.split()[2:] == [str(row["messages_in"]) for row in rows]


def test_blocked_says_since_in_the_city_zone(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = invoke(
        "block", "@spam_acct_1234", "--network", "x", "--reason", "spam", "--as", "t"
    )
    assert code == 0, out
    out = run_at(80, monkeypatch, "blocked")
    assert "since (EST)" in out or "since (EDT)" in out
    assert "@spam_acct_1234" in out
    assert "UTC" not in out


# --- FitTable, for any cells ------------------------------------------------------------------

CELL = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp", "Cf", "Mn")),
        st.sampled_from(["🚧", "界", "é", " ", "@", "_"]),
    ),
    max_size=40,
)
ID = st.integers(min_value=10**18, max_value=10**19 - 1).map(str)
COLUMNS = [
    Col("id"),
    Col("handle", priority=1),
    Col("category", priority=3),
    Col("count", right=True, priority=2),
    Col("text", wrap=True),
]


def render(table: FitTable, width: int) -> str:
    console = PlainConsole(width=width, highlight=False, soft_wrap=True)
    with console.capture() as capture:
        console.print(table)
    return capture.get()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(ID, CELL, CELL, st.integers(0, 10**9).map(str), CELL), max_size=6),
    width=st.integers(min_value=60, max_value=220),
)
def test_a_fit_table_is_never_wider_than_its_terminal_and_keeps_ids_whole(
    rows: list[tuple[str, ...]], width: int
) -> None:
    table = FitTable(COLUMNS, rows, title="t")
    layout = table.layout(width, Console(width=width))
    out = render(table, width)
    assert widest(out) <= width, out
    lines = out.splitlines()
    for row in rows:
        assert any(row[0] in line for line in lines)  # the id: whole, on one line
        if 3 in layout.shown:
            assert any(row[3] in line for line in lines)  # a number: whole too
    # The columns left out are the least useful: every one shown outranks every one left out.
    left_out = [COLUMNS[i].priority for i in range(len(COLUMNS)) if i not in layout.shown]
    kept = [COLUMNS[i].priority for i in layout.shown if COLUMNS[i].priority]
    assert all(k < o for k in kept for o in left_out)
    assert 0 in layout.shown and 4 in layout.shown  # priority 0: always shown


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(st.tuples(ID, CELL, CELL, st.integers(0, 99).map(str), CELL), max_size=4))
def test_a_wide_terminal_gets_every_column_unwrapped(rows: list[tuple[str, ...]]) -> None:
    table = FitTable(COLUMNS, rows)
    assert table.layout(400, Console(width=400)).shown == (0, 1, 2, 3, 4)


def test_wide_characters_count_twice() -> None:
    rows = [("1859000000000000001", "@界界界界界界界界界界", "🚧🚧🚧🚧🚧🚧🚧🚧", "7", "x " * 60)]
    out = render(FitTable(COLUMNS, rows), 60)
    assert widest(out) <= 60, out


def test_report_by_department_keeps_every_figure_whole_at_80(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run_at(80, monkeypatch, "report", "--by", "department")
    rows = json.loads(run_at(200, monkeypatch, "report", "--by", "department", "--format", "json"))
    total = next(r for r in rows["rows"] if r["key"] == "total")
    assert widest(out) <= 80, out
    # The total row on one line, each of its figures whole: a department name wraps, not a figure.
    line = next(line for line in out.splitlines() if line.startswith("total "))
    assert line.split()[1:4] == [str(total["opened"]), str(total["resolved"]), str(total["open"])]
    assert re.search(r" \d+(\.\d)? [hd] ", line), line
    for header in ("opened", "resolved", "open", "overdue", "median", "p90", "in SLA"):
        assert header in out.splitlines()[1], out


def test_status_fits_80_columns(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run_at(80, monkeypatch, "status")
    # The database's URL is one word, never broken: a test's temporary path may be longer.
    assert widest("\n".join(line for line in out.splitlines() if "sqlite:" not in line)) <= 80
    assert any(line.startswith("database:     sqlite:") for line in out.splitlines()), out
    assert "no monthly budget set" in " ".join(out.split())  # wrapped, not cut
