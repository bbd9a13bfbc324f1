"""Where a report is: exact geo, a small place, a map link, typed coordinates; and city bounds.

Every URL here is what X puts in a post's expanded URLs (or what a resident pastes): no test
resolves anything over the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialbot.domain import BBox, GeoPoint, Location, LocationSource, Place
from socialbot.errors import ConfigError
from socialbot.location import (
    CityBounds,
    best_location,
    haversine_m,
    load_city_bounds,
    location_from_text,
    parse_city_bounds,
    place_centroid,
)

CITY_HALL = GeoPoint(42.3603, -71.0580)
BOSTON_BBOX = BBox(-71.19, 42.23, -70.92, 42.40)
PUBLIC_GARDEN_BBOX = BBox(-71.0711, 42.3536, -71.0690, 42.3553)  # about 250 m corner to corner


def from_link(url: str) -> Location | None:
    """What a post reading "@City #pothole https://t.co/xyz" gives when t.co expands to `url`."""
    return location_from_text("@City #pothole https://t.co/Xy12AbCd", [url])


def map_link(lat: float, lon: float) -> Location:
    return Location(GeoPoint(lat, lon), LocationSource.MAP_LINK)


def typed(lat: float, lon: float) -> Location:
    return Location(GeoPoint(lat, lon), LocationSource.TEXT)


# --- map links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        # Google Maps
        "https://www.google.com/maps/place/Boston+City+Hall/@42.3603,-71.058,17z?entry=ttu",
        "https://www.google.com/maps?q=42.3603,-71.058",
        "https://maps.google.com/?q=42.3603,-71.058",
        "https://maps.google.com/maps?q=loc:42.3603,-71.058",
        "https://www.google.com/maps/search/?api=1&query=42.3603%2C-71.058",
        "https://www.google.com/maps/search/42.3603,+-71.058?entry=ttu",
        "https://www.google.com/maps/@42.3603,-71.058,15z?entry=ttu",
        "https://www.google.com/maps/@42.3603,-71.058,3a,75y,90t/data=!3m6!1e1",
        "https://maps.google.com/maps?ll=42.3603,-71.058&z=16",
        "https://www.google.co.uk/maps?q=42.3603,-71.058",
        # Apple Maps
        "https://maps.apple.com/?ll=42.3603,-71.058",
        "https://maps.apple.com/?ll=42.3603,-71.058&q=Dropped%20Pin&t=m",
        "https://maps.apple.com/?q=Pothole&sll=42.3603,-71.058&z=10",
        "https://maps.apple.com/place?coordinate=42.3603,-71.058&name=Marked%20Location",
        # OpenStreetMap
        "https://www.openstreetmap.org/?mlat=42.3603&mlon=-71.058#map=17/42.3603/-71.058",
        "https://www.openstreetmap.org/#map=17/42.3603/-71.058",
        "https://www.openstreetmap.org/#map=19/42.3603/-71.058&layers=C",
        "https://osm.org/#map=17/42.3603/-71.058",
        "https://www.osm.org/?mlat=42.3603&mlon=-71.058",
    ],
)
def test_each_map_link_form_is_read(url: str) -> None:
    assert from_link(url) == map_link(42.3603, -71.058)


def test_google_pin_beats_the_camera_position() -> None:
    # "Share" on a pin: @ is where the camera looks, !3d!4d is the pin itself.
    url = (
        "https://www.google.com/maps/place/Boston+City+Hall/@42.3605,-71.0612,17z/"
        "data=!3m1!4b1!4m6!3m5!1s0x89e3708f6e9b1f3d:0x5b5e7c9e3b0b7a4e!8m2!3d42.3603!4d-71.058"
        "!16zL20vMDFfbXQ2?entry=ttu"
    )
    assert from_link(url) == map_link(42.3603, -71.058)


def test_google_searched_point_beats_the_viewport() -> None:
    url = "https://maps.google.com/maps?q=42.3603,-71.058&ll=42.35,-71.07&z=14"
    assert from_link(url) == map_link(42.3603, -71.058)


def test_openstreetmap_marker_beats_the_map_view() -> None:
    url = "https://www.openstreetmap.org/?mlat=42.30412&mlon=-71.09033#map=15/42.3000/-71.1000"
    assert from_link(url) == map_link(42.30412, -71.09033)


def test_a_google_search_for_an_address_is_not_a_location() -> None:
    assert from_link("https://www.google.com/maps?q=9,+12+Elm+St+Boston") is None
    assert from_link("https://www.google.com/maps/place/Boston+City+Hall") is None


def test_a_google_web_search_is_not_a_map_link() -> None:
    assert from_link("https://www.google.com/search?q=42.3603,-71.058") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://goo.gl/maps/Xk9AbC3dEfG2",
        "https://maps.app.goo.gl/7WkT1dcWbY8YJ3x56",
        "https://maps.apple/p/1b2Nq.Xy4bCdE",
        "https://osm.org/go/ZfIaM--",
        "https://t.co/Xy12AbCd",  # X could not expand it
        "https://www.bostonglobe.com/2026/11/23/metro/potholes/",
    ],
)
def test_short_and_unknown_links_are_ignored(url: str) -> None:
    assert from_link(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://www.google.com/maps?q=95.1,-71.058",
        "https://maps.apple.com/?ll=42.3603,-181.0",
        "https://www.openstreetmap.org/?mlat=-91&mlon=0",
        "geo:42.3603,200",
    ],
)
def test_out_of_range_link_coordinates_are_ignored(url: str) -> None:
    assert from_link(url) is None


def test_a_link_that_x_did_not_shorten_is_read_from_the_text() -> None:
    text = "@City #pothole maps.google.com/?q=42.3603,-71.058 right by the crosswalk"
    assert location_from_text(text, []) == map_link(42.3603, -71.058)


def test_the_first_usable_link_wins() -> None:
    urls = [
        "https://goo.gl/maps/Xk9AbC3dEfG2",
        "https://maps.apple.com/?ll=42.3603,-71.058",
        "https://www.openstreetmap.org/?mlat=42.30412&mlon=-71.09033",
    ]
    assert location_from_text("@City #pothole two links", urls) == map_link(42.3603, -71.058)


# --- geo: URIs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "geo:42.3603,-71.058",
        "geo:42.3603,-71.058;u=35",
        "geo:42.3603,-71.058?z=18",
        "geo:42.3603,-71.058,12.5;crs=wgs84;u=10",
        "GEO:42.3603,-71.058",
        "geo:0,0?q=42.3603,-71.058(Pothole)",  # Android's "no position, see q"
    ],
)
def test_geo_uris_are_read(uri: str) -> None:
    assert from_link(uri) == map_link(42.3603, -71.058)
    assert location_from_text(f"@City #pothole {uri} please fix", []) == map_link(42.3603, -71.058)


def test_geo_uris_in_another_reference_system_or_without_position_are_ignored() -> None:
    assert from_link("geo:42.3603,-71.058;crs=EPSG:2249") is None
    assert from_link("geo:0,0?q=City+Hall+Plaza") is None


# --- coordinates typed in the text ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@City #pothole at 42.3603, -71.058",
        "@City #pothole at 42.3603,-71.058",
        "@City #pothole (42.3603 -71.058) next to the hydrant",
        "@City #pothole here: 42.3603,-71.058.",
        "@City #pothole 42.3603° N, 71.058° W",
        "@City #pothole 42.3603°N 71.058°W",
        "@City #pothole 42.3603, \u221271.058",  # a pasted U+2212 MINUS SIGN
    ],
)
def test_typed_coordinates_are_read(text: str) -> None:
    assert location_from_text(text, []) == typed(42.3603, -71.058)


def test_typed_coordinates_in_the_southern_and_eastern_hemispheres() -> None:
    assert location_from_text("-33.8688, 151.2093", []) == typed(-33.8688, 151.2093)
    assert location_from_text("33.8688 S, 151.2093 E", []) == typed(-33.8688, 151.2093)


@pytest.mark.parametrize(
    "text",
    [
        "@City #pothole Meet at 5,30",
        "@City #pothole it cost me $12.50, 3.99 for the tow",
        "@City #pothole costs 12.50€, 3.99€",
        "@City #pothole on Route 9, 12 cars swerved",
        "@City #pothole call me at 617-635-4500",
        "@City #pothole call me at 617.635.4500",
        "@City #pothole 1,000,000 potholes!",
        "@City #pothole scores 1.23, 4.56, 7.89",
        "@City #pothole running v2.10, 3.14 of the app",
        "@City #pothole up 42.36%, 71.05%",
        "@City #pothole at 42.3, -71.0",  # one decimal: too vague to be deliberate
        "@City #pothole at 42.36, -71.05",  # two decimals: ~1 km, cannot find a pothole
        "@City #pothole open 10.30, 11.45 tomorrow",  # times written with dots
        "@City #pothole at 42, -71",
    ],
)
def test_numbers_that_are_not_coordinates(text: str) -> None:
    assert location_from_text(text, []) is None


@pytest.mark.parametrize(
    "text",
    [
        "@City #pothole at 95.1234, -71.058",
        "@City #pothole at 42.3603, -190.058",
        "@City #pothole at -42.3603 S, 71.058 W",  # a sign and a hemisphere: ambiguous
    ],
)
def test_out_of_range_or_ambiguous_typed_pairs_are_ignored(text: str) -> None:
    assert location_from_text(text, []) is None


def test_a_pair_inside_a_link_is_not_typed_coordinates() -> None:
    text = "@City #pothole see https://www.example.com/report?at=42.3603,-71.058 thanks"
    assert location_from_text(text, []) is None
    assert location_from_text("@City #pothole example.com/r?at=42.3603,-71.058", []) is None


def test_a_map_link_beats_a_typed_pair_even_when_typed_first() -> None:
    text = "@City #pothole 42.1111, -71.2222 https://t.co/Xy12AbCd"
    urls = ["https://maps.apple.com/?ll=42.3603,-71.058"]
    assert location_from_text(text, urls) == map_link(42.3603, -71.058)


def test_an_unusable_link_falls_back_to_the_typed_pair() -> None:
    text = "@City #pothole 42.3603, -71.058 https://t.co/Xy12AbCd"
    urls = ["https://maps.app.goo.gl/7WkT1dcWbY8YJ3x56"]
    assert location_from_text(text, urls) == typed(42.3603, -71.058)


# --- distances and places ---------------------------------------------------------------------


def test_haversine() -> None:
    # One degree of latitude on the mean-radius sphere.
    assert haversine_m(GeoPoint(0, 0), GeoPoint(1, 0)) == pytest.approx(111_195.08, abs=0.01)
    assert haversine_m(CITY_HALL, CITY_HALL) == 0.0
    # City Hall to the State House, about 500 m, whichever way round.
    state_house = GeoPoint(42.3588, -71.0638)
    assert haversine_m(CITY_HALL, state_house) == pytest.approx(503, abs=5)
    assert haversine_m(state_house, CITY_HALL) == haversine_m(CITY_HALL, state_house)
    assert haversine_m(GeoPoint(0, 0), GeoPoint(0, 180)) == pytest.approx(20_015_115, abs=1)


def test_a_whole_city_place_has_no_usable_centre() -> None:
    assert place_centroid(BOSTON_BBOX, 1000.0) is None


def test_a_small_place_is_its_centre() -> None:
    centre = place_centroid(PUBLIC_GARDEN_BBOX, 1000.0)
    assert centre is not None
    assert (centre.lat, centre.lon) == pytest.approx((42.35445, -71.07005))


def test_a_neighbourhood_is_a_location_only_under_a_larger_limit() -> None:
    beacon_hill = BBox(-71.0735, 42.3550, -71.0610, 42.3620)  # about 1.3 km corner to corner
    assert place_centroid(beacon_hill, 1000.0) is None
    centre = place_centroid(beacon_hill, 2000.0)
    assert centre is not None
    assert (centre.lat, centre.lon) == pytest.approx((42.3585, -71.06725))


def test_a_point_place_is_that_point() -> None:
    # X describes a POI by a zero-size bbox.
    poi = BBox(-71.058, 42.3603, -71.058, 42.3603)
    assert place_centroid(poi, 1000.0) == CITY_HALL
    assert place_centroid(poi, 0.0) == CITY_HALL


def test_a_small_place_across_the_antimeridian() -> None:
    centre = place_centroid(BBox(179.999, -16.5, -179.999, -16.499), 1000.0)
    assert centre is not None
    assert (centre.lat, abs(centre.lon)) == pytest.approx((-16.4995, 180.0))


def test_a_bbox_off_the_earth_is_no_place() -> None:
    assert place_centroid(BBox(-71.06, 92.0, -71.05, 92.001), 1000.0) is None
    assert place_centroid(BBox(-71.06, 42.37, -71.05, 42.36), 1000.0) is None  # south > north


# --- best_location: the order of preference ---------------------------------------------------

GARDEN = Place("07d9f0b4a6c81000", "Boston Public Garden", "poi", PUBLIC_GARDEN_BBOX)
BOSTON = Place("67b98f17fdcf20be", "Boston, MA", "city", BOSTON_BBOX)
APPLE_LINK = "https://maps.apple.com/?ll=42.3001,-71.1001"
TEXT_WITH_PAIR = "@City #pothole 42.2002, -71.0502 https://t.co/Xy12AbCd"


def locate(
    coordinates: GeoPoint | None = None,
    place: Place | None = None,
    text: str = "@City #pothole",
    urls: tuple[str, ...] = (),
) -> Location | None:
    return best_location(
        coordinates=coordinates,
        place=place,
        text=text,
        expanded_urls=urls,
        max_place_diagonal_m=1000.0,
    )


def test_exact_coordinates_beat_everything() -> None:
    location = locate(CITY_HALL, GARDEN, TEXT_WITH_PAIR, (APPLE_LINK,))
    assert location == Location(CITY_HALL, LocationSource.EXACT)


def test_a_small_place_beats_a_link_and_text() -> None:
    location = locate(None, GARDEN, TEXT_WITH_PAIR, (APPLE_LINK,))
    assert location is not None and location.source is LocationSource.PLACE


def test_a_link_beats_text() -> None:
    assert locate(None, None, TEXT_WITH_PAIR, (APPLE_LINK,)) == map_link(42.3001, -71.1001)


def test_text_when_nothing_else() -> None:
    assert locate(None, None, TEXT_WITH_PAIR) == typed(42.2002, -71.0502)


def test_a_whole_city_place_falls_through_to_the_link() -> None:
    assert locate(None, BOSTON, TEXT_WITH_PAIR, (APPLE_LINK,)) == map_link(42.3001, -71.1001)


def test_a_place_without_a_bbox_falls_through() -> None:
    no_bbox = Place("p", "Somewhere", "admin", None)
    assert locate(None, no_bbox, TEXT_WITH_PAIR) == typed(42.2002, -71.0502)


def test_nothing_usable_is_none() -> None:
    assert locate(None, BOSTON, "@City #pothole on Main St", ("https://goo.gl/maps/X",)) is None


# --- city bounds from a bbox ------------------------------------------------------------------


def test_bounds_from_a_bbox_string() -> None:
    bounds = parse_city_bounds("-71.191155, 42.227926, -70.986078, 42.399974")
    assert bounds.contains(CITY_HALL)
    assert not bounds.contains(GeoPoint(41.82399, -71.41283))  # Providence
    assert bounds.description == "-71.191155,42.227926,-70.986078,42.399974"


def test_points_on_the_edge_of_a_bbox_are_inside() -> None:
    bounds = CityBounds.from_bbox(BBox(-71.2, 42.2, -71.0, 42.4))
    assert bounds.contains(GeoPoint(42.2, -71.1))  # on the south edge
    assert bounds.contains(GeoPoint(42.3, -71.0))  # on the east edge
    assert bounds.contains(GeoPoint(42.4, -71.2))  # the north-west corner
    assert not bounds.contains(GeoPoint(42.4000001, -71.1))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "",
            "SOCIALBOT_CITY_BOUNDS: empty; expected west,south,east,north in degrees "
            "or a GeoJSON (Multi)Polygon file",
        ),
        (
            "-71.19,42.23,-70.92",
            "SOCIALBOT_CITY_BOUNDS: expected 4 numbers west,south,east,north, "
            "got 3 ('-71.19,42.23,-70.92')",
        ),
        (
            "-71.19,42.23,east,42.40",
            "SOCIALBOT_CITY_BOUNDS: east is not a number ('east'); expected west,south,east,north "
            "in degrees or a GeoJSON (Multi)Polygon file",
        ),
        (
            "-71.19,42.23,1e2,42.40",
            "SOCIALBOT_CITY_BOUNDS: east is not a number ('1e2'); expected west,south,east,north "
            "in degrees or a GeoJSON (Multi)Polygon file",
        ),
        (
            "-191.19,42.23,-70.92,42.40",
            "SOCIALBOT_CITY_BOUNDS: west (-191.19) is not a longitude (-180 to 180)",
        ),
        (
            "-71.19,42.23,-70.92,92.40",
            "SOCIALBOT_CITY_BOUNDS: north (92.4) is not a latitude (-90 to 90)",
        ),
        (
            "-70.92,42.23,-71.19,42.40",
            "SOCIALBOT_CITY_BOUNDS: west (-70.92) must be less than east (-71.19); "
            "the order is west,south,east,north",
        ),
        (
            "-71.19,42.40,-70.92,42.23",
            "SOCIALBOT_CITY_BOUNDS: south (42.4) must be less than north (42.23); "
            "the order is west,south,east,north",
        ),
        (
            "-71.19,42.23,-71.19,42.40",
            "SOCIALBOT_CITY_BOUNDS: west (-71.19) must be less than east (-71.19); "
            "the order is west,south,east,north",
        ),
    ],
)
def test_bad_bbox_values_name_the_setting_and_the_problem(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_city_bounds(value)
    assert str(caught.value) == message


# --- city bounds from a GeoJSON file ----------------------------------------------------------

# A square city with a square hole (an enclave, like Brookline in Boston), in GeoJSON's lon,lat.
OUTER = [[-71.2, 42.2], [-71.0, 42.2], [-71.0, 42.4], [-71.2, 42.4], [-71.2, 42.2]]
ENCLAVE = [[-71.15, 42.3], [-71.1, 42.3], [-71.1, 42.35], [-71.15, 42.35], [-71.15, 42.3]]
CITY_POLYGON = {"type": "Polygon", "coordinates": [OUTER, ENCLAVE]}
# An island district east of the city, for MultiPolygons and FeatureCollections.
ISLAND = [[-70.95, 42.3], [-70.9, 42.3], [-70.9, 42.35], [-70.95, 42.35], [-70.95, 42.3]]


def write(tmp_path: Path, content: object, name: str = "city.geojson") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def feature(geometry: object) -> dict[str, object]:
    return {"type": "Feature", "properties": {"name": "Boston"}, "geometry": geometry}


def test_bounds_from_a_geojson_polygon(tmp_path: Path) -> None:
    bounds = parse_city_bounds(str(write(tmp_path, CITY_POLYGON)))
    assert bounds.contains(GeoPoint(42.25, -71.05))
    assert not bounds.contains(GeoPoint(42.32, -71.12))  # in the enclave
    assert not bounds.contains(GeoPoint(42.5, -71.05))


def test_points_on_the_polygon_boundary_are_inside(tmp_path: Path) -> None:
    bounds = parse_city_bounds(str(write(tmp_path, CITY_POLYGON)))
    assert bounds.contains(GeoPoint(42.2, -71.2))  # a vertex
    assert bounds.contains(GeoPoint(42.3, -71.0))  # the middle of the east edge
    assert bounds.contains(GeoPoint(42.3, -71.125))  # the enclave's edge


def test_a_relative_path_is_taken_from_base_dir(tmp_path: Path) -> None:
    write(tmp_path, CITY_POLYGON, "boston.geojson")
    bounds = parse_city_bounds("boston.geojson", base_dir=tmp_path)
    assert bounds.contains(GeoPoint(42.25, -71.05))
    assert bounds.description == str(tmp_path / "boston.geojson")


def test_bounds_from_a_feature_and_a_multipolygon(tmp_path: Path) -> None:
    multi = {"type": "MultiPolygon", "coordinates": [[OUTER, ENCLAVE], [ISLAND]]}
    bounds = load_city_bounds(write(tmp_path, feature(multi)))
    assert bounds.contains(GeoPoint(42.25, -71.05))
    assert bounds.contains(GeoPoint(42.32, -70.92))  # on the island
    assert not bounds.contains(GeoPoint(42.32, -70.97))  # the water between


def test_a_feature_collection_is_the_union_of_its_features(tmp_path: Path) -> None:
    island = {"type": "Polygon", "coordinates": [ISLAND]}
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature(CITY_POLYGON),
            feature(island),
            {"type": "Feature", "properties": {"note": "unlocated"}, "geometry": None},
        ],
    }
    bounds = load_city_bounds(write(tmp_path, collection))
    assert bounds.contains(GeoPoint(42.25, -71.05))
    assert bounds.contains(GeoPoint(42.32, -70.92))
    assert not bounds.contains(GeoPoint(42.32, -71.12))


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "city.geojson"
    path.write_text(json.dumps(CITY_POLYGON), encoding="utf-8-sig")
    assert load_city_bounds(path).contains(GeoPoint(42.25, -71.05))


def test_a_self_intersecting_polygon_is_repaired(tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    bounds = load_city_bounds(write(tmp_path, bowtie))
    assert bounds.contains(GeoPoint(0.5, 0.1))
    assert not bounds.contains(GeoPoint(0.1, 0.5))


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_city_bounds("boston.geojson", base_dir=tmp_path)
    assert str(caught.value) == (
        f"SOCIALBOT_CITY_BOUNDS: {tmp_path / 'boston.geojson'}: no such file; "
        "expected west,south,east,north in degrees or a GeoJSON (Multi)Polygon file"
    )


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_city_bounds(str(tmp_path))
    assert (
        str(caught.value)
        == f"SOCIALBOT_CITY_BOUNDS: {tmp_path}: cannot read the file (Is a directory)"
    )


def test_a_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "type": "Polygon",\n  "coordinates": [[[0, 0], [1, 0]\n}\n')
    with pytest.raises(ConfigError) as caught:
        load_city_bounds(path)
    assert str(caught.value) == (
        f"SOCIALBOT_CITY_BOUNDS: {path}:4: not valid JSON (Expecting ',' delimiter at column 1)"
    )


WANTED = "expected a Polygon or MultiPolygon, bare or in a Feature or FeatureCollection"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ([1, 2, 3], f'not a GeoJSON object (no "type"); {WANTED}'),
        ({"type": "Point", "coordinates": [-71.058, 42.3603]}, f"a Point is not an area; {WANTED}"),
        (
            {"type": "LineString", "coordinates": [[-71.2, 42.2], [-71.0, 42.4]]},
            f"a LineString is not an area; {WANTED}",
        ),
        (feature(None), f"the Feature has no geometry; {WANTED}"),
        (
            {"type": "FeatureCollection", "features": []},
            f"the FeatureCollection has no polygon; {WANTED}",
        ),
        ({"type": "FeatureCollection"}, 'the FeatureCollection has no "features" list'),
        (
            {"type": "FeatureCollection", "features": [feature(CITY_POLYGON), {"type": "Point"}]},
            "feature 1 is not a GeoJSON Feature",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [feature({"type": "Point", "coordinates": [-71.058, 42.3603]})],
            },
            f"feature 0: a Point is not an area; {WANTED}",
        ),
        (
            {"type": "Polygon", "coordinates": [[[-71.2, 42.2], [-71.0, 42.2]]]},
            "malformed Polygon coordinates (A linearring requires at least 4 coordinates.)",
        ),
        ({"type": "Polygon", "coordinates": []}, f"the polygons are empty; {WANTED}"),
        (
            # Massachusetts State Plane (US feet): a common export from a city's GIS.
            {
                "type": "Polygon",
                "coordinates": [
                    [[755000, 2930000], [790000, 2930000], [790000, 2965000], [755000, 2930000]]
                ],
            },
            "coordinates are not longitude,latitude degrees "
            "(bounds 755000,2930000,790000,2965000); export the file in WGS 84 (EPSG:4326)",
        ),
    ],
)
def test_bad_geojson_names_the_file_and_what_to_fix(
    tmp_path: Path, content: object, problem: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        parse_city_bounds(str(path))
    assert str(caught.value) == f"SOCIALBOT_CITY_BOUNDS: {path}: {problem}"
