"""`socialbot report` and `socialbot export cases` over a small, hand-checked city."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely.geometry

from socialbot.cli import app
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.store.db import make_engine, transaction, upgrade
from socialbot.store.models import Case, MentionRecord
from tests.cli.run import invoke, runner

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


def case(n: int, category: str, opened: datetime, **fields: object) -> Case:
    values: dict[str, object] = {
        "category": category,
        "department": "Public Works",
        "priority": "normal",
        "status": CaseStatus.NEW,
        "lat": 42.35 + n * 0.0001,
        "lon": -71.06,
        "cell": "drt2yzr",
        "location_source": "exact",
        "lang": "en",
        "platform": "x",
        "mention_post_id": str(1000 + n),
        "author_id": "2001" if n % 2 else "2002",
        "author_username": "maria" if n % 2 else "li",
        "created_at": opened,
        "updated_at": opened,
        "district": "Downtown",
    }
    values.update(fields)
    return Case(**values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Four potholes and a graffiti in the last ten days:
    #1 pothole opened 10 d ago, resolved 9 d ago (1 d, due in 3 d: within SLA)
    #2 pothole opened 8 d ago, resolved 2 d ago (6 d, due in 3 d: late)
    #3 pothole opened 5 d ago, open, due 2 d ago (overdue), two reporters
    #4 graffiti opened 3 d ago, resolved 1 d ago (2 d, no target), district Back Bay
    #5 pothole opened 40 d ago, resolved 39 d ago: outside a 30 d window
    """
    url = f"sqlite:///{tmp_path / 'city.db'}"
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    resolved = CaseStatus.RESOLVED
    with transaction(engine) as session:
        rows = [
            case(
                1,
                "pothole",
                NOW - 10 * DAY,
                status=resolved,
                resolved_at=NOW - 9 * DAY,
                due_at=NOW - 7 * DAY,
            ),
            case(
                2,
                "pothole",
                NOW - 8 * DAY,
                status=resolved,
                resolved_at=NOW - 2 * DAY,
                due_at=NOW - 5 * DAY,
            ),
            case(3, "pothole", NOW - 5 * DAY, due_at=NOW - 2 * DAY, reporter_count=2),
            case(
                4,
                "graffiti",
                NOW - 3 * DAY,
                status=resolved,
                resolved_at=NOW - DAY,
                district="Back Bay",
                lat=None,
                lon=None,
                cell=None,
            ),
            case(5, "pothole", NOW - 40 * DAY, status=resolved, resolved_at=NOW - 39 * DAY),
        ]
        session.add_all(rows)
        session.flush()
        for row in rows:
            session.add(
                MentionRecord(
                    platform="x",
                    account="intake",
                    post_id=row.mention_post_id,
                    author_id=row.author_id,
                    author_username=row.author_username,
                    text="",
                    created_at=row.created_at,
                    received_at=row.created_at,
                    outcome=MentionOutcome.CASE_OPENED,
                    case_id=row.id,
                    raw="{}",
                )
            )
        # A second resident's report of #3, linked as a duplicate.
        session.add(
            MentionRecord(
                platform="x",
                account="intake",
                post_id="2003",
                author_id="2001",
                author_username="maria",
                text="",
                created_at=NOW - 4 * DAY,
                received_at=NOW - 4 * DAY,
                outcome=MentionOutcome.DUPLICATE,
                case_id=3,
                raw="{}",
            )
        )
    engine.dispose()


def test_the_report_in_total_and_by_category() -> None:
    code, out = invoke("report", "--since", "30d", "--by", "category", "--format", "json")
    assert code == 0, out
    rows = {row["key"]: row for row in json.loads(out)["rows"]}
    total, pothole = rows["total"], rows["pothole"]
    assert (total["opened"], total["resolved"], total["open"], total["overdue"]) == (4, 3, 1, 1)
    assert total["reports"] == 5  # #3 was reported twice
    assert (pothole["opened"], pothole["resolved"]) == (3, 2)
    # Resolved in the window: 1 d (#1), 6 d (#2), 2 d (#4): median 2 d, 90th percentile 6 d.
    assert (total["median_hours_to_resolve"], total["p90_hours_to_resolve"]) == (48.0, 144.0)
    # With a target: #1 met it, #2 did not.
    assert (pothole["sla_met"], pothole["sla_counted"], pothole["within_sla"]) == (1, 2, 0.5)
    # Five days old when the module was imported (NOW), plus however long the suite took since.
    waited = (datetime.now(UTC) - NOW).total_seconds() / 3600
    assert total["backlog_oldest_age_hours"] == pytest.approx(120.0 + waited, abs=0.05)


def test_the_report_as_a_table_a_director_reads() -> None:
    code, out = invoke("report", "--since", "30d", "--by", "district")
    assert code == 0, out
    assert "Back Bay" in out and "Downtown" in out and "total" in out
    assert " 50% " in out  # 1 of the 2 potholes with a target made it


def test_hotspots_and_repeat_reporters() -> None:
    code, out = invoke("report", "hotspots", "--since", "30d", "--format", "json")
    assert code == 0, out
    (top,) = json.loads(out)
    assert (top["key"], top["reports"], top["cases"]) == ("drt2yzr", 4, 3)

    code, out = invoke("report", "reporters", "--since", "30d", "--min", "2", "--format", "json")
    assert code == 0, out
    people = {row["author_username"]: row for row in json.loads(out)}
    assert (people["maria"]["reports"], people["maria"]["cases"]) == (3, 2)
    assert (people["li"]["reports"], people["li"]["cases"]) == (2, 2)


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    chart = tmp_path / "council.png"
    code, out = invoke("report", "--since", "30d", "--chart", str(chart))
    assert code == 0, out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 10_000


def test_export_loads_back_as_csv_and_as_geojson(tmp_path: Path) -> None:
    code, out = invoke("export", "cases", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[2]["reporter_count"] == "2"

    target = tmp_path / "cases.geojson"
    result = runner.invoke(app, ["export", "cases", "--format", "geojson", "--output", str(target)])
    assert result.exit_code == 0
    # What was written, what was left out and why: 4 features, not "5 case(s) written".
    assert result.stderr == (
        f"4 case(s) written to {target}; 1 without a location left out (a GeoJSON feature "
        "needs a point; `--format csv` has every case)\n"
    )
    collection = json.loads(target.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 4  # #4 has no location
    first = shapely.geometry.shape(collection["features"][0]["geometry"])
    assert (round(first.y, 4), round(first.x, 4)) == (42.3501, -71.06)


def test_a_csv_export_to_a_file_counts_every_case(tmp_path: Path) -> None:
    target = tmp_path / "cases.csv"
    result = runner.invoke(app, ["export", "cases", "--output", str(target)])
    assert result.exit_code == 0
    assert result.stderr == f"5 case(s) written to {target}\n"
    assert len(list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))) == 5


def test_a_geojson_export_to_standard_output_says_what_it_left_out() -> None:
    result = runner.invoke(app, ["export", "cases", "--format", "geojson"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["features"]) == 4
    assert result.stderr.startswith("4 case(s) written; 1 without a location left out")
