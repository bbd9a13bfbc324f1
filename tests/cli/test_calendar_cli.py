"""`socialbot calendar close`, `open` and `list` on the demo's city, as a 311 supervisor uses them
the morning of a snow storm. The demo's cases are opened as it runs, so the storm is the next
business day: every open case due in business days counts it, and moves."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import Result

from socialbot.cli import app
from socialbot.cli.calendar import calendar_table
from socialbot.cli.render import PlainConsole
from socialbot.closures import CalendarDay, DayKind
from socialbot.sla import BusinessCalendar
from tests.cli.run import invoke, runner

BOSTON = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def demo_template() -> dict[str, Path]:
    return {}


@pytest.fixture
def demo_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_template: dict[str, Path]
) -> Path:
    """A fresh copy of the demo's database (made once a module), in Boston's time."""
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    if "db" not in demo_template:
        template = tmp_path / "template" / "demo.db"
        code, _ = invoke("demo", "--db", str(template), "--no-week")
        assert code == 0
        demo_template["db"] = template
    db = tmp_path / "demo.db"
    shutil.copyfile(demo_template["db"], db)
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{db}")
    return db


def storm_day() -> date:
    """The first business day after today in Boston: inside every open case's window."""
    calendar = BusinessCalendar(zone=BOSTON)
    return calendar.add_business_days(datetime.now(BOSTON).date(), 1)


def due_times() -> dict[int, str | None]:
    code, out = invoke("cases", "list", "--json")
    assert code == 0
    return {case["id"]: case["due_at"] for case in json.loads(out)}


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.removeprefix("socialbot: ").rstrip("\n")


def test_a_snow_day_moves_the_open_cases_and_is_listed_with_who_and_why(demo_db: Path) -> None:
    day = storm_day()
    before = due_times()
    code, out = invoke(
        "calendar", "close", day.isoformat(), "--reason", "snow storm", "--as", "J. Rivera"
    )
    assert code == 0, out
    after = due_times()
    moved = sorted(n for n in before if before[n] != after[n])
    lines = out.splitlines()
    assert lines[0] == f"closed {day:%a} {day}: snow storm (by J. Rivera)"
    assert lines[1] == f"due time moved for {len(moved)} open case(s) (America/New_York):"
    assert moved and all(after[n] > before[n] for n in moved)  # type: ignore[operator]
    shown = [line.split(":")[0].strip() for line in lines[2:] if line.startswith("  #")]
    assert shown == [f"#{n}" for n in moved[:10]]

    code, out = invoke("cases", "show", str(moved[0]))
    assert "J. Rivera: " in out and f"{day} closed: snow storm" in out

    code, out = invoke("calendar", "list", "--json")
    closures = [d for d in json.loads(out) if d["kind"] == "closed"]
    assert [(d["date"], d["why"], d["closed_by"]) for d in closures] == [
        (day.isoformat(), "snow storm", "J. Rivera")
    ]
    code, out = invoke("calendar", "list")
    (row,) = [line for line in out.splitlines() if day.isoformat() in line]
    assert "closed" in row and "snow storm" in row and "J. Rivera" in row


def test_opening_the_day_again_puts_every_due_time_back(demo_db: Path) -> None:
    day = storm_day()
    before = due_times()
    invoke("calendar", "close", day.isoformat(), "--reason", "snow storm")
    code, out = invoke("calendar", "open", day.isoformat(), "--as", "A. Chen")
    assert code == 0 and out.startswith(f"open again {day:%a} {day} (by A. Chen)\n")
    assert due_times() == before


def test_a_weekend_in_a_range_is_recorded_and_said_to_move_nothing(demo_db: Path) -> None:
    today = datetime.now(BOSTON).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    code, out = invoke(
        "calendar", "close", str(saturday), str(saturday + timedelta(days=1)), "--reason", "strike"
    )
    assert code == 0
    assert f"{saturday} is a Saturday: no business day lost, no due time moves for it" in out
    assert "no open case's due time moved" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["close", "24/12/2026", "--reason", "x"], "DATE '24/12/2026' is not a date: write it"),
        (["close", "2026-02-30", "--reason", "x"], "DATE '2026-02-30' is not a date: write it"),
        (["close", "{tomorrow}"], "give --reason: why the city is closed"),
        (["open", "{tomorrow}"], "{tomorrow} is not closed; `socialbot calendar list"),
        (["list", "--from", "tomorrow"], "--from 'tomorrow' is not a date: write it"),
    ],
)
def test_bad_input_is_one_line(demo_db: Path, args: list[str], message: str) -> None:
    tomorrow = str(datetime.now(BOSTON).date() + timedelta(days=1))
    args = [a.replace("{tomorrow}", tomorrow) for a in args]
    result = runner.invoke(app, ["calendar", *args])
    assert one_line_error(result).startswith(message.replace("{tomorrow}", tomorrow))


def rendered(width: int) -> list[str]:
    days = [
        CalendarDay(
            date(2026, 12, 24),
            DayKind.CLOSED,
            "blizzard warning: every city office and the 311 walk-in centre closed",
            "Josefina Rivera-Hernández",
            datetime(2026, 12, 23, 22, 5, tzinfo=UTC),
        ),
        CalendarDay(date(2026, 12, 25), DayKind.HOLIDAY, "Christmas Day"),
        CalendarDay(
            date(2027, 6, 18), DayKind.HOLIDAY, "Juneteenth National Independence Day (observed)"
        ),
    ]
    out = io.StringIO()
    PlainConsole(file=out, width=width).print(
        calendar_table(days, date(2026, 12, 20), 8, BOSTON, width)
    )
    return out.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 200])
def test_the_list_reads_at_80_and_200_columns_dates_whole_in_the_citys_zone(width: int) -> None:
    lines = rendered(width)
    assert max(len(line) for line in lines) <= width
    assert lines[0] == "From Sun 2026-12-20, 8 weeks: 1 closure(s), 2 holiday(s) (America/New_York)"
    text = " ".join(" ".join(lines).split())
    for whole in ("2026-12-24", "2026-12-25", "2027-06-18", "2026-12-23 17:05"):
        assert whole in text  # never cut: recorded at 22:05 UTC is 17:05 in Boston
    if width == 200:  # nothing wraps on a wide terminal: a day a line
        (row,) = [line for line in lines if "2026-12-24" in line]
        assert "Josefina Rivera-Hernández" in row and "2026-12-23 17:05" in row
        assert any("Juneteenth National Independence Day (observed)" in line for line in lines)
