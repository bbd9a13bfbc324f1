"""Every report figure on a hand-checked fixture: the arithmetic is written out in the comments.

The window is Monday 2 Nov 2026 00:00 UTC (included) to Monday 23 Nov 2026 00:00 UTC (excluded):
ISO weeks 2026-W45 (2-8 Nov), W46 (9-15 Nov) and W47 (16-22 Nov). `now` is after the window, so
open cases and backlog ages are measured at `until` (called T below).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from socialbot.domain import CaseStatus, GeoPoint
from socialbot.geocell import cell_of
from socialbot.reports import (
    CaseFacts,
    CategoryCount,
    GroupBy,
    Hotspot,
    HotspotBy,
    Reporter,
    ReportFacts,
    SummaryRow,
    hotspots,
    nearest_rank,
    reporters,
    summary,
    week_key,
)

SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

HIGHWAY = "Public Works – Highway"
GRAFFITI = "Property Management – Graffiti Removal"
LIGHTING = "Public Works – Street Lighting"
CLEAN_TEAM = "Back Bay Clean Team"  # a district override for graffiti in Back Bay

BOYLSTON = GeoPoint(42.34937, -71.07787)  # Back Bay
PUBLIC_GARDEN = GeoPoint(42.35445, -71.07005)  # Back Bay, another cell
CITY_HALL = GeoPoint(42.3603, -71.0580)  # Downtown

R, C = CaseStatus.RESOLVED, CaseStatus.CLOSED


def at(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def case(
    id: int,
    category: str,
    department: str,
    district: str | None,
    status: CaseStatus,
    created_at: datetime,
    resolved_at: datetime | None,
    due_at: datetime | None,
    author: str,
    point: GeoPoint | None,
    *,
    reporter_count: int = 1,
    duplicate_of: int | None = None,
    closed_at: datetime | None = None,
) -> CaseFacts:
    return CaseFacts(
        id=id,
        category=category,
        department=department,
        district=district,
        status=status,
        created_at=created_at,
        resolved_at=resolved_at,
        due_at=due_at,
        author_id=author,
        author_username=f"user_{author}",
        lat=point.lat if point else None,
        lon=point.lon if point else None,
        cell=cell_of(point) if point else None,
        reporter_count=reporter_count,
        duplicate_of=duplicate_of,
        closed_at=closed_at,
    )


OPEN, NEW, ACK = CaseStatus.IN_PROGRESS, CaseStatus.NEW, CaseStatus.ACKNOWLEDGED
PH, GR, SL = "pothole", "graffiti", "streetlight"
BB, DT = "Back Bay", "Downtown"
# Each line: id, category, department, district, status, created, resolved, due, author, point.
CASES = [
    # 24 h, met; one linked duplicate report
    case(1, PH, HIGHWAY, BB, R, at(2, 9), at(3, 9), at(4), "a1", BOYLSTON, reporter_count=2),
    # 72 h, missed
    case(2, PH, HIGHWAY, BB, R, at(3, 10), at(6, 10), at(5), "a1", BOYLSTON),
    # 168 h, missed
    case(3, GR, GRAFFITI, DT, R, at(4, 12), at(11, 12), at(8, 23), "a2", CITY_HALL),
    # 12 h, met
    case(4, SL, LIGHTING, DT, R, at(9, 8), at(9, 20), at(10), "a2", CITY_HALL),
    # no location, no district; open and overdue
    case(5, PH, HIGHWAY, None, OPEN, at(10), None, at(11), "a3", None),
    # 48 h, no target; routed to the district's own crew
    case(6, GR, CLEAN_TEAM, BB, R, at(12, 6), at(14, 6), None, "a2", PUBLIC_GARDEN),
    # open and overdue; two linked duplicate reports
    case(7, PH, HIGHWAY, BB, NEW, at(16), None, at(18), "a1", BOYLSTON, reporter_count=3),
    # closed by staff as a duplicate of 7
    case(
        8,
        PH,
        HIGHWAY,
        BB,
        C,
        at(17),
        None,
        at(19),
        "a3",
        BOYLSTON,
        duplicate_of=7,
        closed_at=at(17, 12),
    ),
    # resolved after T: open at T, not yet due
    case(9, SL, LIGHTING, DT, R, at(20), at(24), at(25), "a3", CITY_HALL),
    # opened in October, resolved in the window: 16 d = 384 h, missed
    case(10, PH, HIGHWAY, BB, R, at(20, 0, 10), at(5), at(22, 0, 10), "a1", BOYLSTON),
    # opened in October, still open, overdue
    case(11, GR, GRAFFITI, DT, ACK, at(26, 0, 10), None, at(29, 0, 10), "a3", CITY_HALL),
    # created at T exactly: outside the window, not open at T
    case(12, PH, HIGHWAY, BB, NEW, UNTIL, None, at(25), "a3", BOYLSTON, reporter_count=2),
    # created at `since` exactly: inside; resolved at T exactly: still open at T, overdue
    case(13, SL, LIGHTING, DT, R, SINCE, UNTIL, at(4), "a3", CITY_HALL),
]

H = timedelta(hours=1)
D = timedelta(days=1)


def row(
    key: str | None,
    *,
    opened: int,
    reports: int,
    resolved: int,
    closed: int,
    open: int,
    overdue: int,
    median: timedelta | None,
    p90: timedelta | None,
    met: int,
    counted: int,
    backlog_median: timedelta | None,
    backlog_oldest: timedelta | None,
) -> SummaryRow:
    return SummaryRow(
        key=key,
        opened=opened,
        reports=reports,
        resolved=resolved,
        closed=closed,
        open=open,
        overdue=overdue,
        median_to_resolve=median,
        p90_to_resolve=p90,
        sla_met=met,
        sla_counted=counted,
        backlog_median_age=backlog_median,
        backlog_oldest_age=backlog_oldest,
    )


# The whole window, by hand:
#   opened   created in [2 Nov, 23 Nov): 1, 2, 3, 4, 5, 6, 7, 8, 9, 13 (13 at `since` exactly);
#            not 10, 11 (October) nor 12 (created at T) -> 10
#   reports  reporter_count of those: 2 (case 1) + 3 (case 7) + 8 x 1 -> 13
#   resolved resolved in the window: 1, 2, 3, 4, 6, 10; not 9 (24 Nov), not 13 (at T) -> 6
#   closed   8 (closed as a duplicate of 7) -> 1
#   open     at T: 5, 7, 11 (open); 9 (resolved after T); 13 (resolved at T: still open) -> 5
#            check: open at `since` = 10 and 11 -> 2; 2 + 10 - 6 - 1 = 5
#   to resolve: 1: 24 h, 2: 72 h, 3: 168 h, 4: 12 h, 6: 48 h, 10: 16 d = 384 h
#            sorted 12, 24, 48, 72, 168, 384 (n = 6)
#            median rank ceil(0.5 * 6) = 3 -> 48 h;  p90 rank ceil(0.9 * 6) = ceil(5.4) = 6 -> 384 h
#   SLA      with a target: 1 met, 2 missed, 3 missed, 4 met, 10 missed (6 has none) -> 2 of 5
#   overdue  open at T with due < T: 5 (11 Nov), 7 (18 Nov), 11 (29 Oct), 13 (4 Nov);
#            not 9 (25 Nov) -> 4
#   backlog  ages at T: 5: 13 d, 7: 7 d, 9: 3 d, 11: 28 d, 13: 21 d; sorted 3, 7, 13, 21, 28
#            median rank ceil(2.5) = 3 -> 13 d; oldest 28 d
TOTAL = row(
    "total",
    opened=10,
    reports=13,
    resolved=6,
    closed=1,
    open=5,
    overdue=4,
    median=48 * H,
    p90=384 * H,
    met=2,
    counted=5,
    backlog_median=13 * D,
    backlog_oldest=28 * D,
)


def test_the_total() -> None:
    report = summary(CASES, since=SINCE, until=UNTIL, now=NOW)
    assert report.total == TOTAL
    assert report.total.within_sla == pytest.approx(0.4)
    assert report.rows == ()
    assert (report.since, report.until) == (SINCE, UNTIL)


def test_by_category() -> None:
    report = summary(CASES, since=SINCE, until=UNTIL, now=NOW, by=GroupBy.CATEGORY)
    assert report.rows == (
        # graffiti: 3, 6, 11. opened 3, 6; resolved 3 (168 h), 6 (48 h); open 11 (28 d, overdue).
        #   sorted 48, 168: median rank 1 -> 48 h, p90 rank ceil(1.8) = 2 -> 168 h.
        #   SLA: 3 missed, 6 has no target -> 0 of 1.
        row(
            "graffiti",
            opened=2,
            reports=2,
            resolved=2,
            closed=0,
            open=1,
            overdue=1,
            median=48 * H,
            p90=168 * H,
            met=0,
            counted=1,
            backlog_median=28 * D,
            backlog_oldest=28 * D,
        ),
        # pothole: 1, 2, 5, 7, 8, 10, 12. opened 1, 2, 5, 7, 8 (reports 2+1+1+3+1 = 8);
        #   resolved 1 (24 h), 2 (72 h), 10 (384 h): median rank 2 -> 72 h, p90 rank 3 -> 384 h;
        #   SLA 1 met, 2 and 10 missed -> 1 of 3; closed 8; open 5 (13 d), 7 (7 d), both
        #   overdue: sorted 7, 13 -> median rank 1 -> 7 d, oldest 13 d.
        row(
            "pothole",
            opened=5,
            reports=8,
            resolved=3,
            closed=1,
            open=2,
            overdue=2,
            median=72 * H,
            p90=384 * H,
            met=1,
            counted=3,
            backlog_median=7 * D,
            backlog_oldest=13 * D,
        ),
        # streetlight: 4, 9, 13. all opened; resolved 4 (12 h, met); open 9 (3 d, due 25 Nov:
        #   not overdue), 13 (21 d, overdue): median rank 1 -> 3 d, oldest 21 d.
        row(
            "streetlight",
            opened=3,
            reports=3,
            resolved=1,
            closed=0,
            open=2,
            overdue=1,
            median=12 * H,
            p90=12 * H,
            met=1,
            counted=1,
            backlog_median=3 * D,
            backlog_oldest=21 * D,
        ),
    )
    assert report.total == TOTAL
    assert sum(r.opened for r in report.rows) == TOTAL.opened


def test_by_district() -> None:
    report = summary(CASES, since=SINCE, until=UNTIL, now=NOW, by=GroupBy.DISTRICT)
    assert report.rows == (
        # Back Bay: 1, 2, 6, 7, 8, 10, 12. opened 1, 2, 6, 7, 8 (reports 2+1+1+3+1 = 8);
        #   resolved 1 (24 h), 2 (72 h), 6 (48 h), 10 (384 h): sorted 24, 48, 72, 384:
        #   median rank 2 -> 48 h, p90 rank ceil(3.6) = 4 -> 384 h; SLA 1 of 3 (6: no target);
        #   closed 8; open 7 (7 d, overdue).
        row(
            "Back Bay",
            opened=5,
            reports=8,
            resolved=4,
            closed=1,
            open=1,
            overdue=1,
            median=48 * H,
            p90=384 * H,
            met=1,
            counted=3,
            backlog_median=7 * D,
            backlog_oldest=7 * D,
        ),
        # Downtown: 3, 4, 9, 11, 13. opened 3, 4, 9, 13; resolved 3 (168 h, missed),
        #   4 (12 h, met): median rank 1 -> 12 h, p90 rank 2 -> 168 h; open 9 (3 d), 11 (28 d),
        #   13 (21 d): sorted 3, 21, 28 -> median 21 d, oldest 28 d; overdue 11, 13.
        row(
            "Downtown",
            opened=4,
            reports=4,
            resolved=2,
            closed=0,
            open=3,
            overdue=2,
            median=12 * H,
            p90=168 * H,
            met=1,
            counted=2,
            backlog_median=21 * D,
            backlog_oldest=28 * D,
        ),
        # No district: 5 (no location). Opened, open 13 d, overdue; nothing resolved.
        row(
            None,
            opened=1,
            reports=1,
            resolved=0,
            closed=0,
            open=1,
            overdue=1,
            median=None,
            p90=None,
            met=0,
            counted=0,
            backlog_median=13 * D,
            backlog_oldest=13 * D,
        ),
    )
    assert report.rows[1].within_sla == pytest.approx(0.5)
    assert report.rows[2].within_sla is None


def test_by_department() -> None:
    report = summary(CASES, since=SINCE, until=UNTIL, now=NOW, by=GroupBy.DEPARTMENT)
    keys = [r.key for r in report.rows]
    assert keys == [CLEAN_TEAM, GRAFFITI, HIGHWAY, LIGHTING]
    clean_team, graffiti, highway, lighting = report.rows
    # Back Bay Clean Team: 6 only: opened, resolved in 48 h, no target, nothing open.
    assert clean_team == row(
        CLEAN_TEAM,
        opened=1,
        reports=1,
        resolved=1,
        closed=0,
        open=0,
        overdue=0,
        median=48 * H,
        p90=48 * H,
        met=0,
        counted=0,
        backlog_median=None,
        backlog_oldest=None,
    )
    # Graffiti Removal: 3 (opened, resolved 168 h, missed) and 11 (open 28 d, overdue).
    assert graffiti == row(
        GRAFFITI,
        opened=1,
        reports=1,
        resolved=1,
        closed=0,
        open=1,
        overdue=1,
        median=168 * H,
        p90=168 * H,
        met=0,
        counted=1,
        backlog_median=28 * D,
        backlog_oldest=28 * D,
    )
    # Highway is every pothole, Street Lighting every streetlight: as by category.
    by_category = summary(CASES, since=SINCE, until=UNTIL, now=NOW, by=GroupBy.CATEGORY).rows
    assert highway == replace(by_category[1], key=HIGHWAY)
    assert lighting == replace(by_category[2], key=LIGHTING)


def test_by_week() -> None:
    report = summary(CASES, since=SINCE, until=UNTIL, now=NOW, by=GroupBy.WEEK)
    assert report.rows == (
        # W45 [2 Nov, 9 Nov): opened 1, 2, 3, 13 (reports 2+1+1+1 = 5); resolved 1 (24 h),
        #   2 (72 h), 10 (384 h): median rank 2 -> 72 h, p90 rank 3 -> 384 h; SLA 1 of 3.
        #   Open at 9 Nov: 3 (resolved 11 Nov), 11, 13 -> 3, all overdue (due 8 Nov 23:00,
        #   29 Oct, 4 Nov); ages 4.5 d, 14 d, 7 d: median 7 d, oldest 14 d.
        row(
            "2026-W45",
            opened=4,
            reports=5,
            resolved=3,
            closed=0,
            open=3,
            overdue=3,
            median=72 * H,
            p90=384 * H,
            met=1,
            counted=3,
            backlog_median=7 * D,
            backlog_oldest=14 * D,
        ),
        # W46 [9 Nov, 16 Nov): opened 4, 5, 6; resolved 3 (168 h), 4 (12 h), 6 (48 h): sorted
        #   12, 48, 168 -> median 48 h, p90 rank ceil(2.7) = 3 -> 168 h; SLA: 3 missed, 4 met,
        #   6 none -> 1 of 2. Open at 16 Nov: 5 (6 d), 11 (21 d), 13 (14 d), all overdue:
        #   median 14 d, oldest 21 d.
        row(
            "2026-W46",
            opened=3,
            reports=3,
            resolved=3,
            closed=0,
            open=3,
            overdue=3,
            median=48 * H,
            p90=168 * H,
            met=1,
            counted=2,
            backlog_median=14 * D,
            backlog_oldest=21 * D,
        ),
        # W47 [16 Nov, 23 Nov): opened 7, 8, 9 (reports 3+1+1 = 5); nothing resolved; 8 closed;
        #   open at T: as for the whole window.
        row(
            "2026-W47",
            opened=3,
            reports=5,
            resolved=0,
            closed=1,
            open=5,
            overdue=4,
            median=None,
            p90=None,
            met=0,
            counted=0,
            backlog_median=13 * D,
            backlog_oldest=28 * D,
        ),
    )
    assert report.total == TOTAL
    assert sum(r.opened for r in report.rows) == TOTAL.opened
    assert sum(r.resolved for r in report.rows) == TOTAL.resolved


def test_weeks_cut_to_a_window_starting_mid_week() -> None:
    # From Wednesday 4 Nov: W45 covers [4 Nov, 9 Nov): opened 3 only (1, 2 and 13 are earlier);
    # resolved 2 (6 Nov) and 10 (5 Nov).
    report = summary(CASES, since=at(4), until=at(12), now=NOW, by=GroupBy.WEEK)
    assert [r.key for r in report.rows] == ["2026-W45", "2026-W46"]
    w45, w46 = report.rows
    assert (w45.opened, w45.resolved) == (1, 2)
    # W46 is cut at 12 Nov: opened 4, 5 (6 is 12 Nov 06:00: outside); resolved 3, 4; open at
    # 12 Nov: 5, 11, 13.
    assert (w46.opened, w46.resolved, w46.open) == (2, 2, 3)


def test_quiet_weeks_have_rows() -> None:
    later = at(31, 0, 12)
    report = summary(CASES, since=at(1, 0, 12), until=at(22, 0, 12), now=later, by=GroupBy.WEEK)
    assert [r.key for r in report.rows] == ["2026-W49", "2026-W50", "2026-W51", "2026-W52"]
    assert all(r.opened == 0 and r.resolved == 0 for r in report.rows)
    assert all(r.open == 4 for r in report.rows)  # 5, 7, 11 and 12 never finish


def test_weeks_are_local_weeks() -> None:
    # Sunday 8 Nov 22:00 in Boston is Monday 9 Nov 03:00 UTC.
    boston = ZoneInfo("America/New_York")
    late_sunday = case(20, "pothole", HIGHWAY, None, NEW, at(9, 3), None, None, "a9", None)
    utc = summary([late_sunday], since=SINCE, until=UNTIL, now=NOW, by=GroupBy.WEEK)
    local = summary([late_sunday], since=SINCE, until=UNTIL, now=NOW, by=GroupBy.WEEK, zone=boston)
    assert [r.opened for r in utc.rows] == [0, 1, 0]
    # In Boston the window starts on Sunday 1 Nov 19:00 (W44) and ends Sunday 22 Nov 19:00 (W47).
    assert [r.key for r in local.rows] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert [r.opened for r in local.rows] == [0, 1, 0, 0]


def test_week_keys() -> None:
    assert week_key(at(2)) == "2026-W45"
    assert week_key(at(22, 23)) == "2026-W47"
    assert week_key(datetime(2027, 1, 1, 12, tzinfo=UTC)) == "2026-W53"  # ISO year
    assert week_key(datetime(2027, 1, 4, 12, tzinfo=UTC)) == "2027-W01"
    assert week_key(at(9, 3), ZoneInfo("America/New_York")) == "2026-W45"


def test_until_after_now_is_cut_to_now() -> None:
    # now = 18 Nov 00:00: case 9 (20 Nov) is not opened yet; open at now: 5 (8 d), 7 (2 d),
    # 11 (23 d), 13 (16 d); 8 was closed on 17 Nov. Sorted 2, 8, 16, 23: median rank 2 -> 8 d.
    now = at(18)
    report = summary(CASES, since=SINCE, until=UNTIL, now=now)
    assert report.until == now
    assert report.total.opened == 9
    assert report.total.open == 4
    assert report.total.backlog_median_age == 8 * D
    assert report.total.backlog_oldest_age == 23 * D


def test_a_group_with_nothing_in_the_window_has_no_row() -> None:
    # From 7 to 9 Nov nothing happens in Back Bay (1, 2 and 10 are already resolved, 6 and 7
    # not yet opened) nor without a district (5 opens on 10 Nov); Downtown has 3, 11, 13 open.
    report = summary(CASES, since=at(7), until=at(9), now=NOW, by=GroupBy.DISTRICT)
    assert [r.key for r in report.rows] == ["Downtown"]
    assert report.rows[0].open == 3


def test_a_finished_case_without_timestamps_is_not_open() -> None:
    legacy = case(30, "pothole", HIGHWAY, None, C, at(3), None, None, "a9", None)
    report = summary([legacy], since=SINCE, until=UNTIL, now=NOW)
    assert (report.total.opened, report.total.open, report.total.closed) == (1, 0, 0)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        (UNTIL, SINCE, "the window is empty"),
        (SINCE, SINCE, "the window is empty"),
        (datetime(2026, 11, 2), UNTIL, "since must be timezone-aware"),
    ],
)
def test_a_bad_window_is_refused(since: datetime, until: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summary(CASES, since=since, until=until, now=NOW)


def test_records_for_csv_and_json() -> None:
    record = TOTAL.to_record()
    assert record["median_hours_to_resolve"] == 48.0
    assert record["p90_hours_to_resolve"] == 384.0
    assert record["within_sla"] == pytest.approx(0.4)
    assert record["backlog_oldest_age_hours"] == 28 * 24.0
    assert record["key"] == "total"


# --- nearest rank -----------------------------------------------------------------------------


def test_nearest_rank() -> None:
    values = [timedelta(hours=h) for h in (5, 1, 4, 2, 3)]
    assert nearest_rank(values, 50) == timedelta(hours=3)  # rank ceil(2.5) = 3
    assert nearest_rank(values, 90) == timedelta(hours=5)  # rank ceil(4.5) = 5
    assert nearest_rank(values, 20) == timedelta(hours=1)  # rank ceil(1.0) = 1
    assert nearest_rank(values, 100) == timedelta(hours=5)
    assert nearest_rank(values[:4], 50) == timedelta(hours=2)  # 1, 2, 4, 5: rank 2, no average
    assert nearest_rank([], 50) is None
    # 7 / 100 * 100 is 7.000000000000001 in floating point; the rank must still be 7.
    hundred = [timedelta(minutes=m) for m in range(1, 101)]
    assert nearest_rank(hundred, 7) == timedelta(minutes=7)
    with pytest.raises(ValueError, match="percent"):
        nearest_rank(values, 0)


# --- hotspots ---------------------------------------------------------------------------------


def test_hotspots_by_cell() -> None:
    found = hotspots(CASES, since=SINCE, until=UNTIL, now=NOW)
    # Cases opened in the window, by cell:
    #   Boylston: 1 (2 reports), 2 (1), 7 (3), 8 (1, a duplicate of 7) -> 7 reports, 3 cases,
    #             all potholes
    #   City Hall: 3 graffiti, 4, 9, 13 streetlights -> 4 reports, 4 cases
    #   Public Garden: 6 graffiti -> 1 report, 1 case
    #   unlocated: 5 -> 1 report. Not counted: 10, 11 (October), 12 (at T).
    assert found.by is HotspotBy.CELL
    assert found.unlocated_reports == 1
    boylston, city_hall, garden = found.rows
    assert boylston == Hotspot(
        cell_of(BOYLSTON),
        reports=7,
        cases=3,
        top_categories=(CategoryCount("pothole", 7),),
        centre=boylston.centre,
    )
    assert boylston.centre is not None and cell_of(boylston.centre) == cell_of(BOYLSTON)
    assert (city_hall.key, city_hall.reports, city_hall.cases) == (cell_of(CITY_HALL), 4, 4)
    assert city_hall.top_categories == (
        CategoryCount("streetlight", 3),
        CategoryCount("graffiti", 1),
    )
    assert (garden.key, garden.reports, garden.cases) == (cell_of(PUBLIC_GARDEN), 1, 1)


def test_hotspots_by_district() -> None:
    found = hotspots(CASES, since=SINCE, until=UNTIL, now=NOW, by=HotspotBy.DISTRICT, top=1)
    # Back Bay: 1, 2, 6, 7, 8 -> 2+1+1+3+1 = 8 reports, 4 cases (8 is a duplicate),
    # pothole 7, graffiti 1. Downtown: 4 reports (cut by top=1). No district: 5 -> unlocated.
    assert found.rows == (
        Hotspot(
            "Back Bay",
            reports=8,
            cases=4,
            top_categories=(CategoryCount("pothole", 7), CategoryCount("graffiti", 1)),
            centre=None,
        ),
    )
    assert found.unlocated_reports == 1


def test_hotspot_ties_and_the_top_three_categories() -> None:
    point = CITY_HALL
    mixed = [
        case(40, "noise", HIGHWAY, "A", NEW, at(3), None, None, "x", point, reporter_count=2),
        case(41, "rodents", HIGHWAY, "A", NEW, at(3), None, None, "x", point, reporter_count=2),
        case(42, "graffiti", HIGHWAY, "A", NEW, at(3), None, None, "x", point),
        case(43, "pothole", HIGHWAY, "A", NEW, at(3), None, None, "x", point, reporter_count=3),
        # B: as many reports as A (8) but fewer cases; C: as many as B, same cases, later key.
        case(44, "pothole", HIGHWAY, "B", NEW, at(3), None, None, "x", BOYLSTON, reporter_count=8),
        case(45, "pothole", HIGHWAY, "C", NEW, at(3), None, None, "x", BOYLSTON, reporter_count=8),
    ]
    found = hotspots(mixed, since=SINCE, until=UNTIL, now=NOW, by=HotspotBy.DISTRICT)
    assert [h.key for h in found.rows] == ["A", "B", "C"]
    # A's categories: pothole 3, then noise and rodents 2 each (by name), graffiti 1 left out.
    assert found.rows[0].top_categories == (
        CategoryCount("pothole", 3),
        CategoryCount("noise", 2),
        CategoryCount("rodents", 2),
    )


def test_a_case_without_a_stored_cell_uses_its_point() -> None:
    stored = case(50, "pothole", HIGHWAY, None, NEW, at(3), None, None, "x", BOYLSTON)
    legacy = replace(stored, id=51, cell=None)
    found = hotspots([stored, legacy], since=SINCE, until=UNTIL, now=NOW)
    assert [(h.key, h.reports) for h in found.rows] == [(cell_of(BOYLSTON), 2)]


def test_hotspot_records() -> None:
    found = hotspots(CASES, since=SINCE, until=UNTIL, now=NOW, by=HotspotBy.DISTRICT)
    assert found.rows[0].to_record() == {
        "key": "Back Bay",
        "reports": 8,
        "cases": 4,
        "top_categories": "pothole (7), graffiti (1)",
        "lat": None,
        "lon": None,
    }


# --- reporters --------------------------------------------------------------------------------


def report(case_id: int, author: str, username: str, when: datetime) -> ReportFacts:
    category = next(c.category for c in CASES if c.id == case_id)
    return ReportFacts(case_id, category, author, username, when)


# The post that opened each case, plus the duplicates linked to cases 1, 2, 7 and 12.
REPORTS = [
    report(1, "a1", "alice_b", at(2, 9)),
    report(2, "a1", "alice_b", at(3, 10)),
    report(3, "a2", "bob", at(4, 12)),
    report(4, "a2", "bob", at(9, 8)),
    report(5, "a3", "carol", at(10)),
    report(6, "a2", "bob", at(12, 6)),
    report(7, "a1", "alice", at(16)),
    report(8, "a3", "carol", at(17)),
    report(9, "a3", "carol", at(20)),
    report(10, "a1", "alice_b", at(20, 0, 10)),  # October: outside
    report(11, "a3", "carol", at(26, 0, 10)),  # October: outside
    report(12, "a3", "carol", UNTIL),  # at T: outside
    report(13, "a3", "carol", SINCE),  # at since: inside
    # linked duplicates
    report(1, "a2", "bob", at(2, 12)),
    report(2, "a1", "alice_b", at(4)),
    report(7, "a1", "alice", at(16, 8)),
    report(7, "a4", "dave", at(16, 9)),
    report(12, "a3", "carol", at(23, 5)),  # after T: outside
]


def test_reporters() -> None:
    found = reporters(REPORTS, since=SINCE, until=UNTIL, now=NOW, min_reports=2)
    assert found == (
        # alice: 1, 2, 2 (linked), 7, 7 (linked) -> 5 reports on 3 cases, all potholes; her
        # handle as of her last report (16 Nov 08:00) is "alice".
        Reporter(
            "a1",
            "alice",
            5,
            3,
            (CategoryCount("pothole", 5),),
            first_at=at(2, 9),
            last_at=at(16, 8),
        ),
        # bob: 3, 4, 6 and 1 (linked) -> 4 reports, 4 cases; graffiti 2, pothole 1, streetlight 1.
        Reporter(
            "a2",
            "bob",
            4,
            4,
            (
                CategoryCount("graffiti", 2),
                CategoryCount("pothole", 1),
                CategoryCount("streetlight", 1),
            ),
            first_at=at(2, 12),
            last_at=at(12, 6),
        ),
        # carol: 13 (at since), 5, 8, 9 -> 4 reports, 4 cases; 11, 12 and 12's link are outside.
        # pothole 2 (5, 8) and streetlight 2 (9, 13): a tie, by name.
        Reporter(
            "a3",
            "carol",
            4,
            4,
            (CategoryCount("pothole", 2), CategoryCount("streetlight", 2)),
            first_at=SINCE,
            last_at=at(20),
        ),
    )


def test_reporters_threshold() -> None:
    assert [
        r.author_id for r in reporters(REPORTS, since=SINCE, until=UNTIL, now=NOW, min_reports=5)
    ] == ["a1"]
    everyone = reporters(REPORTS, since=SINCE, until=UNTIL, now=NOW, min_reports=1)
    assert [r.author_id for r in everyone] == ["a1", "a2", "a3", "a4"]  # dave: 1 report
    with pytest.raises(ValueError, match="min_reports must be at least 1"):
        reporters(REPORTS, since=SINCE, until=UNTIL, now=NOW, min_reports=0)


def test_reporters_ties_prefer_more_cases() -> None:
    # Two reports each: x on one case, y on two; y first.
    same = [
        ReportFacts(1, "pothole", "x", "x", at(3)),
        ReportFacts(1, "pothole", "x", "x", at(4)),
        ReportFacts(2, "pothole", "y", "y", at(3)),
        ReportFacts(3, "pothole", "y", "y", at(4)),
    ]
    found = reporters(same, since=SINCE, until=UNTIL, now=NOW)
    assert [(r.author_id, r.reports, r.cases) for r in found] == [("y", 2, 2), ("x", 2, 1)]


def test_opening_reports_from_cases() -> None:
    openings = [ReportFacts.opening(c) for c in CASES]
    found = reporters(openings, since=SINCE, until=UNTIL, now=NOW, min_reports=3)
    # Without linked reports: a3 opened 5, 8, 9, 13 -> 4; a2 opened 3, 4, 6 -> 3; a1 opened 1,
    # 2, 7 -> 3 (tie with a2 on reports and cases: by id).
    assert [(r.author_id, r.reports) for r in found] == [("a3", 4), ("a1", 3), ("a2", 3)]
    assert found[0].author_username == "user_a3"


def test_reporter_records() -> None:
    found = reporters(REPORTS, since=SINCE, until=UNTIL, now=NOW)
    assert found[1].to_record() == {
        "author_id": "a2",
        "author_username": "bob",
        "reports": 4,
        "cases": 4,
        "categories": "graffiti (2), pothole (1), streetlight (1)",
        "first_at": "2026-11-02T12:00:00+00:00",
        "last_at": "2026-11-12T06:00:00+00:00",
    }


def test_reporter_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="reporter_count must be at least 1"):
        case(60, "pothole", HIGHWAY, None, NEW, at(3), None, None, "x", None, reporter_count=0)
