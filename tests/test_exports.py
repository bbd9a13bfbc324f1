"""Exports load back: CSV through csv, GeoJSON through json and shapely; the chart is a PNG."""

from __future__ import annotations

import csv
import io
import json
import struct
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, shape

from socialbot.domain import CaseStatus
from socialbot.errors import ConfigError
from socialbot.exports import CSV_COLUMNS, case_record, cases_csv, cases_geojson, weekly_chart
from socialbot.reports import CaseFacts
from tests.test_reports import CASES, NOW, SINCE, UNTIL

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def parse_time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def from_csv_row(row: dict[str, str]) -> CaseFacts:
    """What a spreadsheet user (or a script) reads back from the file."""
    return CaseFacts(
        id=int(row["id"]),
        category=row["category"],
        department=row["department"],
        district=row["district"] or None,
        status=CaseStatus(row["status"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        resolved_at=parse_time(row["resolved_at"]),
        due_at=parse_time(row["due_at"]),
        author_id=row["author_id"],
        author_username=row["author_username"] or None,
        lat=float(row["lat"]) if row["lat"] else None,
        lon=float(row["lon"]) if row["lon"] else None,
        cell=row["cell"] or None,
        reporter_count=int(row["reporter_count"]),
        duplicate_of=int(row["duplicate_of"]) if row["duplicate_of"] else None,
        closed_at=parse_time(row["closed_at"]),
    )


# --- CSV --------------------------------------------------------------------------------------


def test_csv_loads_back_to_the_same_cases() -> None:
    text = cases_csv(CASES)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [tuple(rows[0])] == [CSV_COLUMNS]
    assert [from_csv_row(row) for row in rows] == CASES


def test_csv_keeps_every_digit_of_a_coordinate() -> None:
    precise = replace(CASES[0], lat=42.349371234567891, lon=-71.077870987654321)
    (row,) = csv.DictReader(io.StringIO(cases_csv([precise]), newline=""))
    assert (float(row["lat"]), float(row["lon"])) == (precise.lat, precise.lon)


def test_csv_quotes_what_needs_quoting() -> None:
    awkward = replace(CASES[0], department='Public Works, "Highway"', district="Back Bay\nNorth")
    (row,) = csv.DictReader(io.StringIO(cases_csv([awkward]), newline=""))
    assert row["department"] == 'Public Works, "Highway"'
    assert row["district"] == "Back Bay\nNorth"


def test_csv_times_are_utc_iso_8601() -> None:
    boston = ZoneInfo("America/New_York")
    local = replace(CASES[0], created_at=datetime(2026, 11, 2, 4, 0, tzinfo=boston))
    (row,) = csv.DictReader(io.StringIO(cases_csv([local]), newline=""))
    assert row["created_at"] == "2026-11-02T09:00:00+00:00"
    assert row["closed_at"] == ""


def test_csv_lines_end_in_crlf() -> None:
    text = cases_csv(CASES[:2])
    assert text.count("\r\n") == 3
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")


def test_an_empty_csv_has_its_header() -> None:
    assert cases_csv([]) == ",".join(CSV_COLUMNS) + "\r\n"


# --- GeoJSON ----------------------------------------------------------------------------------


def test_geojson_is_valid_and_round_trips() -> None:
    export = cases_geojson(CASES)
    loaded = json.loads(json.dumps(export.collection))
    assert loaded == export.collection
    assert loaded["type"] == "FeatureCollection"
    located = [c for c in CASES if c.lat is not None]
    assert len(loaded["features"]) == len(located) == 12
    assert export.omitted == 1  # case 5 has no location
    for feature, case in zip(loaded["features"], located, strict=True):
        assert feature["type"] == "Feature"
        assert feature["id"] == case.id
        geometry = shape(feature["geometry"])
        assert isinstance(geometry, Point)
        assert geometry.is_valid
        # RFC 7946: [longitude, latitude].
        assert feature["geometry"]["coordinates"] == [case.lon, case.lat]
        assert (geometry.x, geometry.y) == (case.lon, case.lat)
        assert -180 <= geometry.x <= 180 and -90 <= geometry.y <= 90


def test_geojson_properties_are_the_csv_columns_without_the_coordinates() -> None:
    feature = cases_geojson([CASES[7]]).collection["features"][0]  # type: ignore[index]
    assert feature["properties"] == {
        "id": 8,
        "category": "pothole",
        "department": "Public Works – Highway",
        "district": "Back Bay",
        "status": "closed",
        "created_at": "2026-11-17T00:00:00+00:00",
        "resolved_at": None,
        "closed_at": "2026-11-17T12:00:00+00:00",
        "due_at": "2026-11-19T00:00:00+00:00",
        "author_id": "a3",
        "author_username": "user_a3",
        "cell": CASES[7].cell,
        "reporter_count": 1,
        "duplicate_of": 7,
    }
    assert set(feature["properties"]) | {"lat", "lon"} == set(CSV_COLUMNS)


def test_geojson_of_nothing_located() -> None:
    unlocated = [c for c in CASES if c.lat is None]
    export = cases_geojson(unlocated)
    assert export.collection == {"type": "FeatureCollection", "features": []}
    assert export.omitted == 1


def test_case_record_is_json_ready() -> None:
    for case in CASES:
        assert json.loads(json.dumps(case_record(case))) == case_record(case)


# --- the chart --------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_chart_is_a_slide_sized_png(tmp_path: Path) -> None:
    path = weekly_chart(
        CASES,
        tmp_path / "weekly.png",
        since=SINCE,
        until=UNTIL,
        now=NOW,
        labels={"pothole": "Pothole", "streetlight": "Streetlight out"},
    )
    assert path == tmp_path / "weekly.png"
    assert png_size(path) == (2000, 1125)  # 16:9, at 150 dpi
    assert path.stat().st_size > 20_000


def test_a_chart_with_other_categories_and_a_local_zone(tmp_path: Path) -> None:
    path = weekly_chart(
        CASES,
        tmp_path / "weekly",  # no extension: still a PNG
        since=SINCE,
        until=UNTIL,
        now=NOW,
        zone=ZoneInfo("America/New_York"),
        top_categories=1,
        title="Potholes and the rest",
    )
    png_size(path)
    assert path.stat().st_size > 20_000


def test_a_chart_of_an_empty_period(tmp_path: Path) -> None:
    path = weekly_chart([], tmp_path / "empty.png", since=SINCE, until=UNTIL, now=NOW)
    png_size(path)
    assert path.stat().st_size > 10_000


def test_a_chart_of_a_year(tmp_path: Path) -> None:
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    path = weekly_chart(CASES, tmp_path / "year.png", since=year_start, until=UNTIL, now=NOW)
    assert png_size(path) == (2000, 1125)


def test_an_unwritable_chart_path_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "no such dir" / "weekly.png"
    with pytest.raises(ConfigError) as caught:
        weekly_chart(CASES, path, since=SINCE, until=UNTIL, now=NOW)
    assert str(caught.value) == f"cannot write the chart to {path}: No such file or directory"
