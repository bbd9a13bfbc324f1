"""Districts from GeoJSON: point-in-polygon routing, the shared-edge rule, overrides, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from socialbot.districts import DEMO_DISTRICTS, District, Districts, load_districts
from socialbot.domain import GeoPoint
from socialbot.errors import ConfigError

# Two squares side by side sharing the edge lon = -71.05, and a third one north of both sharing
# the line lat = 42.40 with them. GeoJSON's (lon, lat) order.
WEST = [[-71.10, 42.30], [-71.05, 42.30], [-71.05, 42.40], [-71.10, 42.40], [-71.10, 42.30]]
EAST = [[-71.05, 42.30], [-71.00, 42.30], [-71.00, 42.40], [-71.05, 42.40], [-71.05, 42.30]]
NORTH = [[-71.10, 42.40], [-71.00, 42.40], [-71.00, 42.45], [-71.10, 42.45], [-71.10, 42.40]]
# A hole in WEST (a park that belongs to no district).
PARK = [[-71.09, 42.31], [-71.08, 42.31], [-71.08, 42.32], [-71.09, 42.32], [-71.09, 42.31]]


def feature(name: object, rings: object, **properties: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"name": name, **properties},
        "geometry": {"type": "Polygon", "coordinates": rings},
    }


def collection(*features: object) -> dict[str, object]:
    return {"type": "FeatureCollection", "features": list(features)}


def write(tmp_path: Path, content: object, name: str = "districts.geojson") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


@pytest.fixture
def three(tmp_path: Path) -> Districts:
    return load_districts(
        write(
            tmp_path,
            collection(
                feature("West End", [WEST, PARK], department_overrides={"graffiti": "BID"}),
                feature("East Side", [EAST]),
                feature("North Point", [NORTH]),
            ),
        )
    )


def name_at(districts: Districts, lat: float, lon: float) -> str | None:
    found = districts.locate(GeoPoint(lat, lon))
    return found.name if found is not None else None


# --- locate -----------------------------------------------------------------------------------


def test_a_point_inside_is_in_its_district(three: Districts) -> None:
    assert name_at(three, 42.35, -71.07) == "West End"
    assert name_at(three, 42.35, -71.02) == "East Side"
    assert name_at(three, 42.42, -71.05) == "North Point"


def test_a_point_outside_every_district_has_none(three: Districts) -> None:
    assert name_at(three, 42.20, -71.05) is None
    assert name_at(three, 42.35, -70.90) is None


def test_a_hole_belongs_to_no_district(three: Districts) -> None:
    assert name_at(three, 42.315, -71.085) is None


def test_a_shared_edge_goes_to_the_first_district_in_file_order(three: Districts) -> None:
    assert name_at(three, 42.35, -71.05) == "West End"  # West End and East Side share it
    assert name_at(three, 42.40, -71.02) == "East Side"  # East Side (1) before North Point (2)
    assert name_at(three, 42.40, -71.05) == "West End"  # the corner of all three


def test_the_shared_edge_rule_follows_the_file_not_the_geometry(tmp_path: Path) -> None:
    reversed_order = load_districts(
        write(tmp_path, collection(feature("East Side", [EAST]), feature("West End", [WEST])))
    )
    assert name_at(reversed_order, 42.35, -71.05) == "East Side"


def test_an_outer_edge_and_the_edge_of_a_hole_are_covered(three: Districts) -> None:
    assert name_at(three, 42.30, -71.10) == "West End"  # the outer corner
    assert name_at(three, 42.30, -71.00) == "East Side"  # the far corner
    assert name_at(three, 42.31, -71.085) == "West End"  # on the hole's south edge
    assert name_at(three, 42.2999999, -71.07) is None  # just outside


def test_a_slanted_edge_is_decided_exactly(tmp_path: Path) -> None:
    # Two triangles splitting a square along its diagonal: a point on the diagonal goes to the
    # first, a point a hair off it to the side it lies on.
    south = [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]
    north = [[[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]
    districts = load_districts(
        write(tmp_path, collection(feature("South", south), feature("North", north)))
    )
    assert name_at(districts, 0.5, 0.5) == "South"
    assert name_at(districts, 0.5000001, 0.5) == "North"
    assert name_at(districts, 0.4999999, 0.5) == "South"


def test_a_multipolygon_district(tmp_path: Path) -> None:
    islands = {
        "type": "Feature",
        "properties": {"name": "Harbor Islands"},
        "geometry": {"type": "MultiPolygon", "coordinates": [[EAST], [NORTH]]},
    }
    districts = load_districts(write(tmp_path, collection(islands)))
    assert name_at(districts, 42.35, -71.02) == "Harbor Islands"
    assert name_at(districts, 42.42, -71.05) == "Harbor Islands"
    assert name_at(districts, 42.35, -71.07) is None


def test_no_districts_locates_nothing() -> None:
    assert Districts(()).locate(GeoPoint(42.35, -71.05)) is None


def test_districts_built_directly() -> None:
    districts = Districts(
        (
            District(0, "A", shapely.box(0, 0, 1, 1)),
            District(1, "B", shapely.box(1, 0, 2, 1)),
        )
    )
    assert name_at(districts, 0.5, 1.0) == "A"
    assert districts.names == ("A", "B")
    assert districts.get("B") == District(1, "B", shapely.box(1, 0, 2, 1))
    assert districts.get("C") is None


# --- department overrides ---------------------------------------------------------------------


def test_a_district_override_replaces_the_catalog_department(three: Districts) -> None:
    west = three.get("West End")
    east = three.get("East Side")
    assert west is not None and east is not None
    assert west.department_for("graffiti", "Property Management") == "BID"
    assert west.department_for("pothole", "Public Works") == "Public Works"
    assert east.department_for("graffiti", "Property Management") == "Property Management"


def test_overrides_are_checked_against_the_catalog(tmp_path: Path) -> None:
    path = write(tmp_path, collection(feature("A", [WEST], department_overrides={"grafitti": "X"})))
    with pytest.raises(ConfigError) as caught:
        load_districts(path, known_categories={"graffiti", "pothole"})
    assert str(caught.value) == (
        f"SOCIALBOT_DISTRICTS: {path}: feature 0 ('A'): 'department_overrides': "
        "'grafitti' is not a category key of the catalog"
    )
    assert load_districts(path).districts[0].department_overrides == {"grafitti": "X"}


# --- the demo file ----------------------------------------------------------------------------

# Every located report in socialbot/demo/mentions.json, and where it should land.
DEMO_POINTS = [
    (42.34937, -71.07787, "Back Bay"),  # pothole on Boylston St (exact geo)
    (42.35445, -71.07005, "Back Bay"),  # graffiti in the Public Garden (small place's centre)
    (42.30412, -71.09033, "Roxbury"),  # downed tree in Franklin Park (map link)
    (42.32088, -71.09412, "Roxbury"),  # bache on Centre St (exact geo)
    (42.33174, -71.05652, "Dorchester"),  # illegal dumping (typed coordinates)
    (42.25561, -71.12410, "Roxbury"),  # water leak (OpenStreetMap link)
    (42.27164, -71.08571, "Roxbury"),  # grafiti (Apple Maps link)
    (42.3603, -71.0580, "Downtown"),  # City Hall
]


def test_the_demo_file_routes_every_demo_report() -> None:
    districts = load_districts(DEMO_DISTRICTS)
    for lat, lon, expected in DEMO_POINTS:
        assert name_at(districts, lat, lon) == expected, (lat, lon)


def test_the_demo_districts_tile_the_demo_bounds() -> None:
    districts = load_districts(DEMO_DISTRICTS)
    bounds = shapely.box(-71.191155, 42.227926, -70.986078, 42.399974)
    union = shapely.union_all([d.area for d in districts.districts])
    assert union.equals(bounds)
    total = sum(d.area.area for d in districts.districts)
    assert total == pytest.approx(bounds.area)  # no overlaps
    assert len(districts.districts) == 6


def test_the_demo_file_has_an_override_example() -> None:
    districts = load_districts(DEMO_DISTRICTS, known_categories={"graffiti"})
    back_bay = districts.get("Back Bay")
    assert back_bay is not None
    assert back_bay.department_for("graffiti", "x") == "Back Bay Association – Clean Team"


# --- bad files --------------------------------------------------------------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.geojson"
    with pytest.raises(ConfigError) as caught:
        load_districts(path)
    assert str(caught.value) == (
        f"SOCIALBOT_DISTRICTS: {path}: no such file; expected a GeoJSON FeatureCollection"
    )


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_districts(tmp_path)
    assert (
        str(caught.value)
        == f"SOCIALBOT_DISTRICTS: {tmp_path}: cannot read the file (Is a directory)"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.geojson"
    path.write_bytes(b'{"name": "Caf\xe9"}')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_districts(path)


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.geojson"
    path.write_text(json.dumps(collection(feature("A", [WEST]))), encoding="utf-8-sig")
    assert load_districts(path).names == ("A",)


def test_a_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "type": "FeatureCollection",\n  "features": [\n}\n')
    with pytest.raises(ConfigError) as caught:
        load_districts(path)
    assert str(caught.value) == (
        f"SOCIALBOT_DISTRICTS: {path}:4: not valid JSON (Expecting value at column 1)"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            {"type": "Polygon", "coordinates": [WEST]},
            'expected a GeoJSON FeatureCollection (a "type": "FeatureCollection")',
        ),
        ([1, 2], 'expected a GeoJSON FeatureCollection (a "type": "FeatureCollection")'),
        ({"type": "FeatureCollection"}, 'the FeatureCollection has no "features" list'),
        (collection(), "the FeatureCollection has no features; add one per district"),
        (
            collection(feature("A", [WEST]), {"type": "Polygon"}),
            "feature 1 is not a GeoJSON Feature",
        ),
        (
            collection({"type": "Feature", "properties": None, "geometry": None}),
            "feature 0: no properties; it needs a 'name' property",
        ),
        (
            collection(feature("A", [WEST]), feature("B", [EAST]), feature(None, [NORTH])),
            "feature 2: no 'name' property",
        ),
        (
            collection(feature("  ", [WEST])),
            "feature 0: the 'name' property must be non-empty text, not '  '",
        ),
        (
            collection(feature(7, [WEST])),
            "feature 0: the 'name' property must be non-empty text, not 7",
        ),
        (
            collection(feature("A", [WEST]), feature("B", [EAST]), feature("A", [NORTH])),
            "feature 2: the name 'A' is also feature 0's; district names must be unique",
        ),
        (
            collection({"type": "Feature", "properties": {"name": "A"}, "geometry": None}),
            "feature 0 ('A'): no geometry; a district needs a Polygon or MultiPolygon",
        ),
        (
            collection(
                {
                    "type": "Feature",
                    "properties": {"name": "A"},
                    "geometry": {"type": "Point", "coordinates": [-71.05, 42.35]},
                }
            ),
            "feature 0 ('A'): a Point is not an area; expected a Polygon or MultiPolygon",
        ),
        (
            collection(feature("A", [[[-71.1, 42.3], [-71.0, 42.3]]])),
            "feature 0 ('A'): malformed Polygon coordinates "
            "(A linearring requires at least 4 coordinates.)",
        ),
        (collection(feature("A", [])), "feature 0 ('A'): the Polygon is empty"),
        (
            collection(
                feature(
                    "A",
                    [[[755000, 2930000], [790000, 2930000], [790000, 2965000], [755000, 2930000]]],
                )
            ),
            "feature 0 ('A'): coordinates are not longitude,latitude degrees "
            "(bounds 755000,2930000,790000,2965000); export the file in WGS 84 (EPSG:4326)",
        ),
        (
            collection(feature("A", [WEST], department_overrides=["graffiti"])),
            "feature 0 ('A'): 'department_overrides' must map category keys to departments, "
            'like {"graffiti": "Clean Team"}',
        ),
        (
            collection(feature("A", [WEST], department_overrides={"graffiti": ""})),
            "feature 0 ('A'): 'department_overrides': the department for 'graffiti' must be "
            "non-empty text, not ''",
        ),
    ],
)
def test_bad_files_name_the_feature_and_what_to_fix(
    tmp_path: Path, content: object, problem: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_districts(path)
    assert str(caught.value) == f"SOCIALBOT_DISTRICTS: {path}: {problem}"


def test_a_self_touching_polygon_is_repaired(tmp_path: Path) -> None:
    bowtie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    districts = load_districts(write(tmp_path, collection(feature("Bowtie", bowtie))))
    assert name_at(districts, 0.5, 0.1) == "Bowtie"
    assert name_at(districts, 0.1, 0.5) is None


def test_extra_properties_are_ignored(tmp_path: Path) -> None:
    gis_export = feature("A", [WEST], OBJECTID=17, Shape_Area=123.4, department_overrides=None)
    districts = load_districts(write(tmp_path, collection(gis_export)))
    assert districts.names == ("A",)
    assert districts.districts[0].department_overrides == {}
