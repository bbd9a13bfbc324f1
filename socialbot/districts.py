"""The city's districts (neighbourhoods) from a GeoJSON file: which one a report's point lies in.

``SOCIALBOT_DISTRICTS`` names a GeoJSON FeatureCollection (RFC 7946: WGS 84 longitude, latitude)
of Polygon or MultiPolygon features. Each feature needs a ``name`` property, unique in the file
(it is stored on every case); it may carry ``department_overrides``, an object mapping catalog
category keys to the department that handles that category in this district (a business
improvement district that cleans its own graffiti, say). Any other property is ignored, so a GIS
export can be used as it is.

A point on the line between two districts, or on a corner shared by several, goes to **the first
of them in file order**: every polygon that covers the point (inside or on its boundary) is a
candidate, and the lowest feature index wins. The rule is deterministic and the city controls it by
ordering its file; a point in no district (a gap, a hole, the harbour) has no district.

The file is read once at start-up; a bad one is a :class:`ConfigError` naming the setting, the
file and the feature (its 0-based index in ``features``, as GIS tools number them, and its name
when it has one), since GeoJSON carries no reliable line numbers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import regex
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from socialbot.domain import GeoPoint
from socialbot.errors import ConfigError
from socialbot.location import AREA_TYPES, degrees_problem, read_geojson, repaired

DISTRICTS_SETTING = "SOCIALBOT_DISTRICTS"
DEMO_DISTRICTS = Path(__file__).resolve().parent / "data" / "districts-demo.geojson"


@dataclass(frozen=True, slots=True)
class District:
    """One district: its name (what cases store), its area, and its department overrides.

    Districts compare by name and file position only: names are unique within a file.
    """

    index: int  # position in the file's features: the tie-break on shared edges
    name: str
    area: BaseGeometry = field(compare=False, repr=False)
    department_overrides: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), compare=False
    )

    def department_for(self, category_key: str, default: str) -> str:
        """The department for a category here: the district's override, else the catalog's."""
        return self.department_overrides.get(category_key, default)


@dataclass(frozen=True, slots=True)
class Districts:
    """All districts of the city, in file order, indexed for point lookups.

    Built by :func:`load_districts`; building one directly (tests, tools) is allowed too. An
    STRtree narrows a lookup to the districts whose bounding boxes hold the point, and each area
    is prepared, so a detailed boundary costs little per report.
    """

    districts: tuple[District, ...]
    _tree: STRtree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for district in self.districts:
            shapely.prepare(district.area)
        tree = STRtree([district.area for district in self.districts])
        # Frozen dataclass: the index is derived once here, then never changes.
        object.__setattr__(self, "_tree", tree)

    def locate(self, point: GeoPoint) -> District | None:
        """The district covering the point (the first in file order on a shared edge), or None."""
        candidates = self._tree.query(shapely.Point(point.lon, point.lat))
        for position in sorted(int(i) for i in candidates):
            district = self.districts[position]
            if shapely.intersects_xy(district.area, point.lon, point.lat):
                return district
        return None

    def get(self, name: str) -> District | None:
        """The district with this name; None when the file (no longer) has it."""
        return next((d for d in self.districts if d.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(district.name for district in self.districts)


# ---------------------------------------------------------------------------------------------
# Loading


class _FileError(Exception):
    """A problem with the file's content; load_districts adds the setting and the file name."""


def load_districts(path: Path, *, known_categories: Collection[str] | None = None) -> Districts:
    """Read and check the districts file; any problem is a one-line :class:`ConfigError`.

    With ``known_categories`` (the catalog's keys), an override for a category the catalog does
    not have is refused: a typo there would silently route nothing.
    """
    where = f"{DISTRICTS_SETTING}: {path}"
    data = read_geojson(path, DISTRICTS_SETTING, missing="expected a GeoJSON FeatureCollection")
    try:
        districts = _districts_from_geojson(data, known_categories)
    except _FileError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return Districts(districts)


def _districts_from_geojson(
    data: object, known_categories: Collection[str] | None
) -> tuple[District, ...]:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise _FileError('expected a GeoJSON FeatureCollection (a "type": "FeatureCollection")')
    features = data.get("features")
    if not isinstance(features, list):
        raise _FileError('the FeatureCollection has no "features" list')
    if not features:
        raise _FileError("the FeatureCollection has no features; add one per district")
    districts: list[District] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        district = _district(feature, index, known_categories)
        if district.name in first_index:
            raise _FileError(
                f"feature {index}: the name {district.name!r} is also feature "
                f"{first_index[district.name]}'s; district names must be unique"
            )
        first_index[district.name] = index
        districts.append(district)
    return tuple(districts)


def _district(feature: object, index: int, known_categories: Collection[str] | None) -> District:
    label = f"feature {index}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _FileError(f"{label} is not a GeoJSON Feature")
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        raise _FileError(f"{label}: no properties; it needs a 'name' property")
    name = properties.get("name")
    if name is None:
        raise _FileError(f"{label}: no 'name' property")
    if not isinstance(name, str) or not name.strip():
        raise _FileError(f"{label}: the 'name' property must be non-empty text, not {name!r}")
    name = name.strip()
    label = f"{label} ({name!r})"
    overrides = _overrides(properties.get("department_overrides"), label, known_categories)
    geometry = feature.get("geometry")
    if geometry is None:
        raise _FileError(f"{label}: no geometry; a district needs a Polygon or MultiPolygon")
    area = _area(geometry, label)
    return District(index=index, name=name, area=area, department_overrides=overrides)


def _overrides(
    value: object, label: str, known_categories: Collection[str] | None
) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    what = f"{label}: 'department_overrides'"
    if not isinstance(value, dict):
        raise _FileError(
            f'{what} must map category keys to departments, like {{"graffiti": "Clean Team"}}'
        )
    overrides: dict[str, str] = {}
    for key, department in value.items():
        if known_categories is not None and key not in known_categories:
            raise _FileError(f"{what}: {key!r} is not a category key of the catalog")
        if not isinstance(department, str) or not department.strip():
            raise _FileError(
                f"{what}: the department for {key!r} must be non-empty text, not {department!r}"
            )
        overrides[key] = department.strip()
    return MappingProxyType(overrides)


def _area(geometry: object, label: str) -> BaseGeometry:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if not isinstance(geometry, dict) or kind not in AREA_TYPES:
        found = f"a {kind}" if isinstance(kind, str) else "not a geometry"
        raise _FileError(f"{label}: {found} is not an area; expected a Polygon or MultiPolygon")
    try:
        area = shape(geometry)
    except (ShapelyError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise _FileError(f"{label}: malformed {kind} coordinates ({exc})") from None
    if not area.is_valid:
        area = repaired(area)
    if area.is_empty:
        raise _FileError(f"{label}: the {kind} is empty")
    problem = degrees_problem(area)
    if problem is not None:
        raise _FileError(f"{label}: {problem}")
    return area


def district_named(text: str, names: Collection[str]) -> str | None:
    """The name of `names` that `text` is, as written in `names`, comparing case, accents,
    punctuation and spacing away ("jamaica-plain", "JamaicaPlain" are "Jamaica Plain"); None when
    none is. How staff's `--district` and a resident's "ALERTS DORCHESTER" are both read."""
    wanted = folded(text)
    return next((name for name in names if folded(name) == wanted), None) if wanted else None


def folded(name: str) -> str:
    """`name` as district names are compared: its letters and digits casefolded, accents and
    compatibility forms made plain, run together."""
    plain = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "".join(_NAME_WORD.findall(plain))


_NAME_WORD = regex.compile(r"[\p{L}\p{N}]+")
