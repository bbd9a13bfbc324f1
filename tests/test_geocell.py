"""The duplicate-lookup grid: cells_near never misses a point within the radius, and stays small."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.domain import GeoPoint
from socialbot.geocell import (
    CELL_LAT_DEGREES,
    CELL_LON_DEGREES,
    MAX_RADIUS_M,
    cell_bounds,
    cell_centre,
    cell_of,
    cells_near,
)
from socialbot.location import EARTH_RADIUS_M, haversine_m

CITY_HALL = GeoPoint(42.3603, -71.0580)


def destination(start: GeoPoint, bearing_deg: float, distance_m: float) -> GeoPoint:
    """The point `distance_m` from `start` along `bearing_deg` on the sphere haversine_m uses,
    its longitude brought into [-180, 180) as a post would carry it."""
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1, lambda1 = math.radians(start.lat), math.radians(start.lon)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return GeoPoint(math.degrees(phi2), (math.degrees(lambda2) + 180.0) % 360.0 - 180.0)


# --- cell_of ----------------------------------------------------------------------------------


def test_cells_are_standard_geohashes_of_precision_7() -> None:
    # The example on Wikipedia's Geohash page: u4pruydqqvj at precision 11.
    assert cell_of(GeoPoint(57.64911, 10.40744)) == "u4pruyd"
    assert cell_of(CITY_HALL) == "drt2zp3"
    assert cell_of(GeoPoint(-33.8568, 151.2153)).startswith("r3gx2")  # Sydney Opera House


def test_a_cell_is_about_150_m_by_113_m_in_boston() -> None:
    box = cell_bounds(cell_of(CITY_HALL))
    height = haversine_m(GeoPoint(box.south, box.west), GeoPoint(box.north, box.west))
    width = haversine_m(GeoPoint(box.south, box.west), GeoPoint(box.south, box.east))
    assert height == pytest.approx(152.7, abs=0.1)
    assert width == pytest.approx(112.9, abs=0.5)
    assert box.north - box.south == pytest.approx(CELL_LAT_DEGREES)
    assert box.east - box.west == pytest.approx(CELL_LON_DEGREES)


def test_a_point_on_the_west_or_south_edge_belongs_to_the_cell() -> None:
    box = cell_bounds(cell_of(CITY_HALL))
    home = cell_of(CITY_HALL)
    assert cell_of(GeoPoint(box.south, box.west)) == home
    assert cell_of(GeoPoint(CITY_HALL.lat, box.west)) == home
    assert cell_of(GeoPoint(box.south, CITY_HALL.lon)) == home
    assert cell_of(GeoPoint(CITY_HALL.lat, box.east)) != home
    assert cell_of(GeoPoint(box.north, CITY_HALL.lon)) != home


def test_the_ends_of_the_earth_have_cells() -> None:
    assert cell_of(GeoPoint(-90.0, -180.0)) == "0000000"
    # The polar row merges its columns: (90, 180) is in the merged cell that ends at 180°.
    top = cell_bounds(cell_of(GeoPoint(90.0, 180.0)))
    assert (top.north, top.east) == (90.0, 180.0)
    assert cell_of(GeoPoint(90.0, 180.0)) == cell_of(GeoPoint(90.0, top.west))


def textbook_geohash(lat: float, lon: float, precision: int = 7) -> str:
    """Geohash by bisection, as every library computes it: what the stored keys must match."""
    lat_range, lon_range, bits, even = [-90.0, 90.0], [-180.0, 180.0], [], True
    while len(bits) < precision * 5:
        target, span = (lon, lon_range) if even else (lat, lat_range)
        middle = (span[0] + span[1]) / 2
        bits.append(int(target >= middle))
        span[0 if target >= middle else 1] = middle
        even = not even
    chars = [int("".join(map(str, bits[k : k + 5])), 2) for k in range(0, len(bits), 5)]
    return "".join("0123456789bcdefghjkmnpqrstuvwxyz"[c] for c in chars)


def test_cells_up_to_85_degrees_are_standard_geohashes() -> None:
    # Only rows poleward of ~85° merge columns, so every key stored before stays what it was.
    rng = random.Random(85)
    for _ in range(2000):
        lat, lon = rng.uniform(-85.0, 85.0), rng.uniform(-180.0, 180.0)
        assert cell_of(GeoPoint(lat, lon)) == textbook_geohash(lat, lon), (lat, lon)
    assert cell_of(GeoPoint(79.9, 15.0)) == textbook_geohash(79.9, 15.0)


def test_bounds_and_centre_round_trip() -> None:
    cell = cell_of(CITY_HALL)
    centre = cell_centre(cell)
    assert cell_of(centre) == cell
    box = cell_bounds(cell)
    assert box.west <= CITY_HALL.lon < box.east
    assert box.south <= CITY_HALL.lat < box.north


@pytest.mark.parametrize("bad", ["", "drt2zp", "drt2zp3x", "drt2zpa", "DRT2ZP3"])
def test_a_malformed_cell_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a geohash of 7 characters"):
        cell_bounds(bad)


# --- cells_near -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("centre", "radius_m"),
    [
        (CITY_HALL, 50.0),
        (GeoPoint(42.35, -71.06), 10.0),
        (GeoPoint(42.35, -71.06), 250.0),
        (GeoPoint(42.35, -71.06), MAX_RADIUS_M),
        (GeoPoint(0.0, 0.0), 50.0),  # where four quadrants of the grid meet
        (GeoPoint(-33.8568, 151.2153), 100.0),
        (GeoPoint(64.1466, -21.9426), 300.0),  # Reykjavik: narrow cells
        (GeoPoint(79.9, 15.0), 200.0),
    ],
)
def test_every_point_within_the_radius_is_in_one_of_the_cells(
    centre: GeoPoint, radius_m: float
) -> None:
    rng = random.Random(f"{centre}-{radius_m}")
    cells = set(cells_near(centre, radius_m))
    for _ in range(3000):
        # Half the points on the circle itself (the hardest case), half inside it.
        distance = radius_m if rng.random() < 0.5 else radius_m * math.sqrt(rng.random())
        point = destination(centre, rng.uniform(0.0, 360.0), distance)
        assert haversine_m(centre, point) <= radius_m + 1e-6
        assert cell_of(point) in cells, (point, distance)


def test_random_centres_near_cell_corners_never_miss() -> None:
    rng = random.Random(311)
    for _ in range(500):
        # Centres a few metres from a corner of the grid: where a circle spills into 4 cells.
        box = cell_bounds(cell_of(GeoPoint(rng.uniform(42.2, 42.4), rng.uniform(-71.2, -70.9))))
        centre = GeoPoint(
            box.north + rng.uniform(-0.0001, 0.0001), box.east + rng.uniform(-0.0001, 0.0001)
        )
        radius = rng.choice([5.0, 50.0, 120.0])
        cells = set(cells_near(centre, radius))
        for _ in range(40):
            point = destination(centre, rng.uniform(0, 360), radius * math.sqrt(rng.random()))
            assert cell_of(point) in cells


def test_the_points_own_cell_comes_first() -> None:
    for radius in (0.0, 50.0, 500.0):
        assert cells_near(CITY_HALL, radius)[0] == cell_of(CITY_HALL)


def test_a_small_circle_in_the_middle_of_a_cell_needs_one_cell() -> None:
    centre = cell_centre(cell_of(CITY_HALL))
    assert cells_near(centre, 20.0) == (cell_of(CITY_HALL),)
    assert cells_near(centre, 0.0) == (cell_of(CITY_HALL),)


def test_a_circle_over_a_corner_needs_four_cells() -> None:
    box = cell_bounds(cell_of(CITY_HALL))
    corner = GeoPoint(box.north - 1e-5, box.east - 1e-5)  # about a metre inside the NE corner
    cells = cells_near(corner, 50.0)
    assert len(cells) == 4
    assert len(set(cells)) == 4


def test_cells_the_circle_does_not_reach_are_left_out() -> None:
    # 60 m from the centre of a 113 m wide cell reaches the east and west neighbours only.
    centre = cell_centre(cell_of(CITY_HALL))
    cells = cells_near(centre, 60.0)
    east = cell_of(GeoPoint(centre.lat, centre.lon + CELL_LON_DEGREES))
    west = cell_of(GeoPoint(centre.lat, centre.lon - CELL_LON_DEGREES))
    assert set(cells) == {cell_of(centre), east, west}


def test_a_radius_larger_than_a_cell_reaches_beyond_the_neighbours() -> None:
    centre = cell_centre(cell_of(CITY_HALL))
    two_east = cell_of(GeoPoint(centre.lat, centre.lon + 2 * CELL_LON_DEGREES))
    assert two_east not in cells_near(centre, 100.0)
    assert two_east in cells_near(centre, 200.0)


def test_the_number_of_cells_stays_small_for_duplicate_radii() -> None:
    rng = random.Random(7)
    worst = {50.0: 0, 250.0: 0, 1000.0: 0}
    for _ in range(150):
        centre = GeoPoint(rng.uniform(42.2, 42.4), rng.uniform(-71.2, -70.9))
        for radius in worst:
            worst[radius] = max(worst[radius], len(cells_near(centre, radius)))
    assert worst[50.0] <= 4
    assert worst[250.0] <= 24
    assert worst[1000.0] <= 230


@pytest.mark.parametrize("radius", [-1.0, MAX_RADIUS_M + 1, math.inf, math.nan])
def test_a_radius_out_of_range_is_refused(radius: float) -> None:
    with pytest.raises(ValueError, match="is outside 0 to 1000 m"):
        cells_near(CITY_HALL, radius)


# --- the whole Earth: poles and antimeridian ---------------------------------------------------

X_FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/x"


def test_the_geotag_near_the_pole_in_xs_recordings_has_neighbours() -> None:
    # geo_tweets.jsonl holds a real post at [42.778, 88.018] (GeoJSON lon, lat): latitude 88.
    points = [
        GeoPoint(lat, lon)
        for line in (X_FIXTURES / "geo_tweets.jsonl").read_text(encoding="utf-8").splitlines()
        for post in json.loads(line).get("data", [])
        if "coordinates" in post.get("geo", {})
        for lon, lat in [post["geo"]["coordinates"]["coordinates"]]
    ]
    assert any(point.lat > 85 for point in points)
    for point in points:
        for radius in (0.0, 50.0, MAX_RADIUS_M):
            cells = cells_near(point, radius)
            assert cells[0] == cell_of(point)


@pytest.mark.parametrize(
    ("centre", "radius_m"),
    [
        (GeoPoint(88.01785747, 42.77810097), 50.0),
        (GeoPoint(88.01785747, 42.77810097), MAX_RADIUS_M),
        (GeoPoint(90.0, 0.0), 300.0),  # the North Pole: every longitude
        (GeoPoint(-90.0, 17.0), MAX_RADIUS_M),
        (GeoPoint(89.995, -179.9999), 800.0),  # holds the pole and crosses the antimeridian
        (GeoPoint(-16.5, 179.9995), 200.0),  # Fiji, across the antimeridian
        (GeoPoint(0.0, -180.0), 100.0),
        (GeoPoint(85.02, 10.0), MAX_RADIUS_M),  # where merging starts
    ],
)
def test_polar_and_antimeridian_circles_miss_nothing(centre: GeoPoint, radius_m: float) -> None:
    rng = random.Random(f"{centre}-{radius_m}")
    cells = set(cells_near(centre, radius_m))
    assert cell_of(centre) in cells
    for _ in range(2000):
        distance = radius_m if rng.random() < 0.5 else radius_m * math.sqrt(rng.random())
        point = destination(centre, rng.uniform(0.0, 360.0), distance)
        assert cell_of(point) in cells, (point, distance)


def test_polar_circles_need_few_thousand_cells_at_most() -> None:
    for lat in (85.0, 85.03, 88.0, 89.0, 89.9, 89.995, 90.0):
        assert len(cells_near(GeoPoint(lat, 0.0), MAX_RADIUS_M)) <= 3000, lat
    assert len(cells_near(GeoPoint(90.0, 0.0), 50.0)) <= 64
    # Merged cells stay at least ~13 m wide where they start, never the 3 mm of raw geohash.
    box = cell_bounds(cell_of(GeoPoint(89.9999, 0.0)))
    assert box.east - box.west > 1.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lat=st.floats(-90.0, 90.0),
    lon=st.floats(-180.0, 180.0),
    radius=st.floats(0.0, MAX_RADIUS_M),
    samples=st.lists(st.tuples(st.floats(0.0, 360.0), st.floats(0.0, 1.0)), max_size=30),
)
def test_every_wgs84_point_has_all_its_neighbours(
    lat: float, lon: float, radius: float, samples: list[tuple[float, float]]
) -> None:
    centre = GeoPoint(lat, lon)
    cells = cells_near(centre, radius)
    assert cells[0] == cell_of(centre)
    found = set(cells)
    for bearing, fraction in samples:
        point = destination(centre, bearing, radius * fraction)
        # At a pole `destination` itself is a fraction of a millimetre off; the property is
        # about the points within the radius, measured as the look-up measures them.
        if haversine_m(centre, point) <= radius:
            assert cell_of(point) in found, point
