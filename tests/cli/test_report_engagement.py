"""`socialbot report`'s residents' messages and `status`'s inbox line, over the hand-counted city
of `tests/engagement_city.py` (read its docstring for every figure below)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from socialbot.reports import SummaryRow
from socialbot.store.db import make_engine, upgrade
from tests import engagement_city
from tests.cli.run import invoke

NOW = datetime.now(UTC).replace(microsecond=0)
ZONE = "America/New_York"
SUMMARY_FIELDS = list(SummaryRow("k", 0, 0, 0, 0, 0, 0, None, None, 0, 0, None, None).to_record())


def database(path: Path, *, messages: bool) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        if messages:
            engagement_city.build(engine, NOW)
    finally:
        engine.dispose()
    return url


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database(tmp_path / "city.db", messages=True))
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", ZONE)


def engagement(*args: str) -> dict[str, dict[str, object]]:
    code, out = invoke("report", *args, "--format", "json")
    assert code == 0, out
    return {row["key"]: row for row in json.loads(out)["engagement"]}


def test_the_month_in_messages_by_channel_and_in_total() -> None:
    rows = engagement("--since", "30d")
    assert list(rows) == ["mastodon", "x", "total"]
    x, mastodon, total = rows["x"], rows["mastodon"], rows["total"]
    figures = ("messages_in", "reports_filed", "reports_linked", "answered_automatically")
    assert [x[f] for f in figures] == [11, 4, 1, 2]
    assert [mastodon[f] for f in figures] == [3, 2, 0, 1]  # one filed by staff
    assert [total[f] for f in figures] == [14, 6, 1, 3]
    assert (total["answered_by_staff"], total["closed_without_reply"]) == (3, 1)
    # 30 min, 2 h, 26 h: the median is the 2nd, the 90th percentile the 3rd (nearest rank).
    assert (total["median_hours_to_staff_answer"], total["p90_hours_to_staff_answer"]) == (2, 26)
    assert (x["median_hours_to_staff_answer"], x["p90_hours_to_staff_answer"]) == (0.5, 2)
    assert (x["unanswered_now"], mastodon["unanswered_now"], total["unanswered_now"]) == (1, 1, 2)
    waited = (datetime.now(UTC) - NOW).total_seconds() / 3600
    assert total["oldest_unanswered_age_hours"] == pytest.approx(50 * 24 + waited, abs=0.05)


def test_a_day_with_no_staff_answer_still_counts_what_waits() -> None:
    total = engagement("--since", "1d")["total"]
    assert (total["messages_in"], total["reports_filed"], total["answered_automatically"]) == (
        3,
        2,
        1,
    )
    assert total["answered_by_staff"] == 0
    assert total["median_hours_to_staff_answer"] is None
    assert total["unanswered_now"] == 2  # what waits now, whatever the window

    code, out = invoke("report", "--since", "1d")
    assert code == 0, out
    assert re.search(r"^median time to a staff answer +– +– +–$", out, re.M), out


def test_the_table_a_council_reads() -> None:
    code, out = invoke("report", "--since", "30d")
    assert code == 0, out
    lines = out.splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith("Residents' messages, "))
    assert lines[title + 1].split() == ["mastodon", "x", "total"]
    table = "\n".join(lines[title + 2 :])
    assert re.search(r"^messages in +3 +11 +14$", table, re.M), table
    assert re.search(r"^reports linked to an existing case +0 +1 +1$", table, re.M)
    assert re.search(r"^median time to a staff answer +26 h +30 min +2 h$", table, re.M)
    assert re.search(r"^p90 time to a staff answer +26 h +2 h +26 h$", table, re.M)
    assert re.search(r"^age of the oldest unanswered +50 d +2 d +50 d$", table, re.M)


def test_json_keeps_its_rows_and_adds_the_engagement() -> None:
    code, out = invoke("report", "--since", "30d", "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    assert list(report) == ["since", "until", "rows", "engagement"]
    assert all(list(row) == SUMMARY_FIELDS for row in report["rows"])


def test_csv_keeps_its_columns_and_the_total_row_carries_the_engagement() -> None:
    code, out = invoke("report", "--since", "30d", "--format", "csv")
    assert code == 0, out
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames is not None and reader.fieldnames[: len(SUMMARY_FIELDS)] == (
        SUMMARY_FIELDS
    )
    *groups, total = list(reader)
    assert total["key"] == "total" and total["messages_in"] == "14"
    assert total["median_hours_to_staff_answer"] == "2.0"
    assert total["p90_hours_to_staff_answer"] == "26.0"
    assert all(row["messages_in"] == "" for row in groups)


def test_report_engagement_has_a_csv_row_per_channel() -> None:
    code, out = invoke("report", "engagement", "--since", "30d", "--format", "csv")
    assert code == 0, out
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(out))}
    assert list(rows) == ["mastodon", "x", "total"]
    assert (rows["x"]["answered_by_staff"], rows["x"]["closed_without_reply"]) == ("2", "1")
    assert rows["mastodon"]["median_hours_to_staff_answer"] == "26.0"


def test_an_empty_database_has_zeros_and_no_times(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database(tmp_path / "empty.db", messages=False))
    rows = engagement("--since", "30d")
    assert list(rows) == ["total"]
    assert rows["total"]["messages_in"] == 0 and rows["total"]["unanswered_now"] == 0
    assert rows["total"]["oldest_unanswered_age_hours"] is None

    code, out = invoke("report", "--since", "30d")
    assert code == 0, out
    assert re.search(r"^messages in +0$", out, re.M), out
    assert re.search(r"^p90 time to a staff answer +–$", out, re.M), out

    code, out = invoke("status")
    assert code == 0, out
    assert "inbox:        empty\n" in out


def test_status_shows_what_waits_and_the_oldest_in_the_city_zone() -> None:
    code, out = invoke("status")
    assert code == 0, out
    oldest = NOW - 50 * engagement_city.DAY
    since = f"{oldest.astimezone(ZoneInfo(ZONE)):%Y-%m-%d %H:%M %Z}"  # over a week: its date
    line = " ".join(out.split("inbox:", 1)[1].split("\n" + " " * 14)).split("\n", 1)[0]
    assert line.strip() == (
        f"2 waiting, oldest 50 d (since {since}), 1 storm post first (`socialbot inbox list`)"
    )

    code, out = invoke("status", "--json")
    assert code == 0, out
    inbox = json.loads(out)["inbox"]
    assert inbox == {
        "waiting": 2,
        "by_reason": {"question": 1, "storm": 1},
        "oldest": oldest.isoformat(),
        "priority": 1,
    }
