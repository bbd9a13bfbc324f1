"""What staff use to find cases: `cases list` filters and formats, and `cases show`'s thread.

The demo database has nine cases around Boston, all opened a moment ago:
  #1 pothole      42.34937,-71.07787  @maria_dorchester  Public Works – Highway
  #2 graffiti     42.35445,-71.07005  @jpatel_bos        Property Management – Graffiti Removal
  #3 streetlight  —                   @southie_sam       Public Works – Street Lighting
  #4 downed_tree  42.30412,-71.09033  @rosa_eastie       Parks and Recreation – Urban Forestry
  #5 missed_trash —                   @kenji_jp          Public Works – Sanitation
  #6 pothole      42.32088,-71.09412  @lucia_roxbury     Public Works – Highway
  #7 dumping      42.33174,-71.05652  @dmitri_allston    Public Works – Code Enforcement
  #8 water_leak   42.25561,-71.12410  @ana_hydepark      Water and Sewer Commission
  #9 graffiti     42.27164,-71.08571  @omar_mattapan     Property Management – Graffiti Removal
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from typer.testing import Result

from socialbot.cli import app
from socialbot.cli.cases import parse_radius
from socialbot.domain import GeoPoint
from socialbot.location import EARTH_RADIUS_M, haversine_m
from socialbot.store.db import make_engine, transaction
from socialbot.store.models import Case, MentionRecord
from socialbot.store.queries import bounding_box, list_cases
from socialbot.timespan import parse_since
from tests.cli.run import invoke, runner


def ids(*args: str) -> list[int]:
    code, out = invoke("cases", "list", *args, "--json")
    assert code == 0, out
    return [case["id"] for case in json.loads(out)]


def usage_error(*args: str) -> Result:
    result = runner.invoke(app, ["cases", "list", *args])
    assert result.exit_code == 2, result.output
    return result


@pytest.fixture(scope="module")
def demo_template() -> dict[str, Path]:
    return {}  # filled by the first test that asks for demo_db


@pytest.fixture
def demo_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_template: dict[str, Path]
) -> Path:
    """A fresh copy of a demo database (the demo runs once per module, in a clean environment)."""
    if "db" not in demo_template:
        template = tmp_path / "template" / "demo.db"
        code, _ = invoke("demo", "--db", str(template), "--no-week")
        assert code == 0
        assert list(template.parent.iterdir()) == [template]  # no WAL left to copy
        demo_template["db"] = template
    db = tmp_path / "demo.db"
    shutil.copyfile(demo_template["db"], db)
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{db}")
    return db


def edit_cases(db: Path, **changes: dict[str, object]) -> None:
    """Set fields of demo cases: edit_cases(db, c1={"created_at": ...})."""
    engine = make_engine(f"sqlite:///{db}")
    with transaction(engine) as session:
        for key, fields in changes.items():
            case = session.get(Case, int(key.removeprefix("c")))
            assert case is not None
            for name, value in fields.items():
                setattr(case, name, value)
            session.add(case)
    engine.dispose()


DEMO_POINTS = {
    1: GeoPoint(42.34937, -71.07787),
    2: GeoPoint(42.35445, -71.07005),
    4: GeoPoint(42.30412, -71.09033),
    6: GeoPoint(42.32088, -71.09412),
    7: GeoPoint(42.33174, -71.05652),
    8: GeoPoint(42.25561, -71.12410),
    9: GeoPoint(42.27164, -71.08571),
    10: GeoPoint(42.37020, -71.03890),  # reported on Mastodon, as #11 and #12 (no location)
    11: GeoPoint(42.31200, -71.11400),
    13: GeoPoint(42.35230, -71.06420),  # reported on Bluesky, as #14
    14: GeoPoint(42.34810, -71.08530),
}


def within(center: GeoPoint, radius_m: float) -> list[int]:
    return sorted(n for n, point in DEMO_POINTS.items() if haversine_m(center, point) <= radius_m)


# --- the filters, one by one ------------------------------------------------------------------


def test_no_filter_lists_every_case_by_number(demo_db: Path) -> None:
    assert ids() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]


def test_status_and_category(demo_db: Path) -> None:
    assert ids("--status", "needs_location") == [3, 5, 12]
    assert ids("--category", "graffiti") == [2, 9]


def test_department_is_exact_but_ignores_case(demo_db: Path) -> None:
    assert ids("--department", "Public Works – Highway") == [1, 6, 10, 14]
    assert ids("--department", "PUBLIC WORKS – highway") == [1, 6, 10, 14]
    assert ids("--department", "Public Works") == []  # no prefix match
    assert ids("--department", "water and sewer commission") == [8]


def test_author_with_or_without_at_and_in_any_case(demo_db: Path) -> None:
    assert ids("--author", "@maria_dorchester") == [1]
    assert ids("--author", "Maria_Dorchester") == [1]
    assert ids("--author", "@OMAR_mattapan") == [9]
    assert ids("--author", "@maria") == []  # the whole handle, not a prefix


def test_since_a_duration_or_a_date(demo_db: Path) -> None:
    now = datetime.now(UTC)
    edit_cases(
        demo_db,
        c1={"created_at": now - timedelta(days=20)},
        c2={"created_at": now - timedelta(days=10)},
        c3={"created_at": now - timedelta(days=10)},
        c4={"created_at": now - timedelta(days=3)},
        c5={"created_at": now - timedelta(hours=2)},
    )
    others = [10, 11, 12, 13, 14]  # Mastodon's and Bluesky's
    assert ids("--since", "2w") == [2, 3, 4, 5, 6, 7, 8, 9, *others]
    assert ids("--since", "7d") == [4, 5, 6, 7, 8, 9, *others]
    assert ids("--since", "1w") == [4, 5, 6, 7, 8, 9, *others]
    assert ids("--since", "2d") == [5, 6, 7, 8, 9, *others]
    assert ids("--since", "24h") == [5, 6, 7, 8, 9, *others]
    assert ids("--since", "30m") == [6, 7, 8, 9, *others]
    five_days_ago = (now - timedelta(days=5)).date().isoformat()
    assert ids("--since", five_days_ago) == [4, 5, 6, 7, 8, 9, *others]
    assert ids("--since", (now + timedelta(days=2)).date().isoformat()) == []


def test_near_keeps_cases_within_the_radius(demo_db: Path) -> None:
    downtown = GeoPoint(42.35, -71.07)  # #2 is 495 m away, #13 541 m, #1 651 m, #7 2.3 km
    assert within(downtown, 500) == [2]
    assert ids("--near", "42.35,-71.07") == [2]  # 500 m by default
    assert ids("--near", "42.35,-71.07", "--radius", "500m") == [2]
    assert within(downtown, 2000) == [1, 2, 13, 14]
    assert ids("--near", "42.35,-71.07", "--radius", "2km") == [1, 2, 13, 14]
    assert within(downtown, 2400) == [1, 2, 7, 13, 14]
    assert ids("--near", "42.35, -71.07", "--radius", "2400") == [1, 2, 7, 13, 14]
    assert ids("--near", "42.35,-71.07", "--radius", "2.4km") == [1, 2, 7, 13, 14]
    everywhere = [1, 2, 4, 6, 7, 8, 9, 10, 11, 13, 14]
    assert ids("--near", "42.35,-71.07", "--radius", "20km") == everywhere


def test_near_is_a_circle_not_the_box_around_it(demo_db: Path) -> None:
    # #6 is 1,132 m away on the diagonal: inside the 1 km box, outside the 1 km circle.
    center = GeoPoint(42.32808, -71.08439)
    box = bounding_box(center, 1000)
    assert box.south <= DEMO_POINTS[6].lat <= box.north
    assert box.lon_ranges is not None
    assert box.lon_ranges[0][0] <= DEMO_POINTS[6].lon <= box.lon_ranges[0][1]
    assert within(center, 1000) == []
    assert ids("--near", "42.32808,-71.08439", "--radius", "1km") == []
    assert within(center, 1200) == [6]
    assert ids("--near", "42.32808,-71.08439", "--radius", "1200m") == [6]


def test_near_across_the_antimeridian(demo_db: Path) -> None:
    # Move #7 to Fiji's side of the date line; 212 m from a point on the other side.
    edit_cases(demo_db, c7={"lat": -17.8, "lon": 179.999})
    assert ids("--near", "-17.8,-179.999", "--radius", "300m") == [7]
    assert ids("--near", "-17.8,-179.999", "--radius", "200m") == []
    assert ids("--near", "-17.8,179.9995", "--radius", "300m") == [7]


def test_cases_without_a_location_never_match_near(demo_db: Path) -> None:
    # #3, #5 and #12 have no location; even a radius holding the whole Earth leaves them out.
    assert ids("--near", "42.35,-71.07", "--radius", "30000km") == [
        1,
        2,
        4,
        6,
        7,
        8,
        9,
        10,
        11,
        13,
        14,
    ]


# --- combined -----------------------------------------------------------------------------------


def test_filters_combine(demo_db: Path) -> None:
    assert ids("--category", "pothole", "--near", "42.35,-71.07", "--radius", "2km") == [1, 14]
    assert ids("--department", "public works – highway", "--author", "@lucia_roxbury") == [6]
    assert ids("--status", "new", "--near", "42.35,-71.07", "--radius", "6km") == [
        1,
        2,
        4,
        6,
        7,
        10,
        11,
        13,
        14,
    ]
    assert ids("--status", "needs_location", "--near", "42.35,-71.07", "--radius", "6km") == []
    edit_cases(demo_db, c2={"created_at": datetime.now(UTC) - timedelta(days=3)})
    assert ids("--since", "1d", "--near", "42.35,-71.07", "--radius", "2km") == [1, 13, 14]
    assert ids("--since", "1d", "--category", "graffiti") == [9]
    assert ids("--since", "1d", "--category", "graffiti", "--author", "jpatel_bos") == []


def test_list_cases_takes_the_filters_as_keywords(demo_db: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_db}")
    near = list_cases(engine, near=GeoPoint(42.35, -71.07), radius_m=2400, limit=2)
    by_author = list_cases(engine, author="@Kenji_JP")
    engine.dispose()
    assert [c.id for c in near] == [1, 2]  # the limit counts cases within the radius
    assert [c.id for c in by_author] == [5]


# --- formats ----------------------------------------------------------------------------------


def test_table_shows_the_count_and_the_cases(demo_db: Path) -> None:
    code, out = invoke("cases", "list", "--near", "42.35,-71.07", "--radius", "2km")
    assert code == 0
    assert out.startswith("4 case(s)\n")
    assert "#1 " in out and "#2 " in out and "#13 " in out and "#7 " not in out
    assert "@maria_dorchester" in out


def test_csv_has_the_json_fields_and_parses_back(demo_db: Path) -> None:
    code, out = invoke("cases", "list", "--category", "pothole", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    _, as_json = invoke("cases", "list", "--category", "pothole", "--json")
    cases = json.loads(as_json)

    assert [row["id"] for row in rows] == ["1", "6", "14"]
    assert list(rows[0]) == list(cases[0])  # same columns, same order
    first = rows[0]
    assert first["author"] == "maria_dorchester"
    assert first["department"] == "Public Works – Highway"
    assert (float(first["lat"]), float(first["lon"])) == (42.34937, -71.07787)
    assert first["photo_urls"] == " ".join(cases[0]["photo_urls"]) != ""
    assert first["place_name"] == ""  # None is an empty cell
    assert first["created_at"] == cases[0]["created_at"]


def test_csv_joins_several_photos_with_a_space(demo_db: Path) -> None:
    edit_cases(demo_db, c1={"photo_urls": ["https://p/1.jpg", "https://p/2.jpg"]})
    _, out = invoke("cases", "list", "--author", "maria_dorchester", "--csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["photo_urls"] == "https://p/1.jpg https://p/2.jpg"


def test_csv_of_nothing_is_the_header(demo_db: Path) -> None:
    code, out = invoke("cases", "list", "--author", "nobody", "--csv")
    assert code == 0
    assert out.splitlines() == [
        "id,category,department,priority,status,lat,lon,location_source,place_name,photo_urls,"
        "mention_id,network,platform,author,author_id,lang,created_at,updated_at,district,due_at,"
        "resolved_at,reporter_count,duplicate_of,address"
    ]


def test_the_json_of_a_case_names_its_network(demo_db: Path) -> None:
    code, out = invoke("cases", "list", "--json")
    assert code == 0
    cases = json.loads(out)
    assert {c["id"]: c["network"] for c in cases} == {
        **{n: "x" for n in range(1, 10)},
        **{n: "mastodon" for n in (10, 11, 12)},  # the demo city is on all three
        **{n: "bluesky" for n in (13, 14)},
    }
    assert all(c["network"] == c["platform"] for c in cases)


# --- bad input: usage errors, exit 2, one line naming the option ------------------------------


@pytest.mark.parametrize("value", ["soon", "7", "7days", "-7d", "1y", "2026-13-01", "11/01/2026"])
def test_a_bad_since_is_a_usage_error(demo_db: Path, value: str) -> None:
    result = usage_error("--since", value)
    assert "Invalid value for '--since'" in result.output
    assert "30m, 24h, 7d, 2w" in result.output or "not a day of the calendar" in result.output


@pytest.mark.parametrize("value", ["far", "0", "0km", "-5m", "2 miles", "1e3"])
def test_a_bad_radius_is_a_usage_error(demo_db: Path, value: str) -> None:
    result = usage_error("--near", "42.35,-71.07", "--radius", value)
    assert "Invalid value for '--radius'" in result.output
    assert "500m, 1km or 250" in result.output


@pytest.mark.parametrize("value", ["42.35", "north", "42.35,-71.07,3", "91,0", "42,-181"])
def test_a_bad_near_is_a_usage_error(demo_db: Path, value: str) -> None:
    result = usage_error("--near", value)
    assert "Invalid value for '--near'" in result.output
    assert "LAT,LON" in result.output


def test_radius_needs_near(demo_db: Path) -> None:
    result = usage_error("--radius", "1km")
    assert "Invalid value for --radius: needs --near LAT,LON" in result.output


def test_json_and_csv_together_is_a_usage_error(demo_db: Path) -> None:
    result = usage_error("--json", "--csv")
    assert "choose one of --json and --csv" in result.output


# --- the pure parsers -------------------------------------------------------------------------


def test_parse_since() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_since("30m", now) == datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
    assert parse_since("24h", now) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_since(" 7d ", now) == datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    assert parse_since("2w", now) == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    for bad in ("", "d", "7", "7D", "1.5d", "7 d", "2026-02-30", "2026-11-01T08:00"):
        with pytest.raises(ValueError):
            parse_since(bad, now)
    with pytest.raises(ValueError, match="too far"):
        parse_since("99999999999d", now)


def test_a_bare_date_is_the_city_midnight() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    boston = ZoneInfo("America/New_York")
    # 2026-11-01 is the day clocks go back: its midnight is still summer time (UTC-4).
    assert parse_since("2026-11-01", now, boston) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert parse_since("2026-11-02", now, boston) == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    assert parse_since("7d", now, boston) == parse_since("7d", now)  # a span has no zone


def test_cases_list_since_a_date_starts_at_the_city_midnight(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Case 1 opened at 02:00 UTC on 11-24: still 11-23 (21:00) in Boston.
    edit_cases(demo_db, c1={"created_at": datetime(2026, 11, 24, 2, 0, tzinfo=UTC)})
    assert 1 in ids("--since", "2026-11-24")  # the demo city's zone: UTC
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    assert 1 not in ids("--since", "2026-11-24")
    assert 1 in ids("--since", "2026-11-23")


def test_parse_radius() -> None:
    assert parse_radius("500m") == 500
    assert parse_radius("1km") == 1000
    assert parse_radius("1.5KM") == 1500
    assert parse_radius("250") == 250


@pytest.mark.parametrize(
    "center", [GeoPoint(42.35, -71.07), GeoPoint(-17.8, 179.99), GeoPoint(78.2, 15.6)]
)
@pytest.mark.parametrize("radius_m", [1.0, 500.0, 25_000.0, 900_000.0])
def test_the_box_holds_the_whole_circle(center: GeoPoint, radius_m: float) -> None:
    box = bounding_box(center, radius_m)
    d = radius_m / EARTH_RADIUS_M
    lat0 = math.radians(center.lat)
    for step in range(720):  # points on the circle, every half degree of bearing
        bearing = math.radians(step / 2)
        lat = math.asin(
            math.sin(lat0) * math.cos(d) + math.cos(lat0) * math.sin(d) * math.cos(bearing)
        )
        dlon = math.atan2(
            math.sin(bearing) * math.sin(d) * math.cos(lat0),
            math.cos(d) - math.sin(lat0) * math.sin(lat),
        )
        point = GeoPoint(
            math.degrees(lat), (center.lon + math.degrees(dlon) + 540.0) % 360.0 - 180.0
        )
        assert haversine_m(center, point) == pytest.approx(radius_m, rel=1e-6)
        assert box.south <= point.lat <= box.north
        assert box.lon_ranges is not None
        assert any(west <= point.lon <= east for west, east in box.lon_ranges)
    # ...and is not much bigger than it: about the radius in degrees of latitude.
    assert box.north - center.lat == pytest.approx(math.degrees(d), abs=1e-6)


def test_a_circle_around_a_pole_takes_every_longitude() -> None:
    box = bounding_box(GeoPoint(89.99, 0.0), 2000)
    assert (box.north, box.lon_ranges) == (90.0, None)


# --- show: the thread ---------------------------------------------------------------------------


def link_mention(db: Path, post_id: str, case_id: int) -> None:
    engine = make_engine(f"sqlite:///{db}")
    with transaction(engine) as session:
        mention = session.exec(select(MentionRecord).where(MentionRecord.post_id == post_id)).one()
        mention.case_id = case_id
        session.add(mention)
    engine.dispose()


def test_show_json_has_the_thread(demo_db: Path) -> None:
    # A second post in #2's thread (the demo's #marathon post, linked here by hand).
    link_mention(demo_db, "1859000000000000007", 2)
    code, out = invoke("cases", "show", "2", "--json")
    assert code == 0
    thread = json.loads(out)["thread"]
    assert thread == [
        {
            "post_id": "1859000000000000002",
            "author": "jpatel_bos",
            "text": "@DemoCity311 #graffiti all over the Public Garden footbridge again",
            "created_at": "2026-11-23T07:03:00+00:00",
            "outcome": "case_opened",
        },
        {
            "post_id": "1859000000000000007",
            "author": "backbay_beth",
            "text": thread[1]["text"],
            "created_at": "2026-11-23T07:14:00+00:00",
            "outcome": "unclassified",
        },
    ]
    assert "#marathon" in thread[1]["text"]


def test_show_json_thread_holds_only_the_cases_own_posts(demo_db: Path) -> None:
    _, out = invoke("cases", "show", "3", "--json")
    assert [m["post_id"] for m in json.loads(out)["thread"]] == ["1859000000000000003"]
    _, out = invoke("cases", "show", "1", "--json")
    assert json.loads(out)["thread"][0]["post_id"] == "1859000000000000001"


def test_show_table_has_the_thread_with_time_and_author(demo_db: Path) -> None:
    link_mention(demo_db, "1859000000000000007", 2)
    code, out = invoke("cases", "show", "2")
    assert code == 0
    thread = [line for line in out.splitlines() if line.startswith("thread ")]
    assert len(thread) == 2
    # The demo city's settings leave SOCIALBOT_TIMEZONE at UTC, and each time says so.
    assert "2026-11-23 07:03 UTC @jpatel_bos: @DemoCity311 #graffiti all over" in thread[0]
    assert "2026-11-23 07:14 UTC @backbay_beth: @DemoCity311 loved the" in thread[1]
    assert "reply     (sent)" in out
