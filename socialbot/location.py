"""Where a report is: exact geo, a small tagged place, a map link, or coordinates in the text.

X strips GPS data from photos, so a post's location comes, best first, from its own
``geo.coordinates`` (rare), the centroid of a tagged place when that place is small (a whole-city
place says nothing about where the pothole is), a Google/Apple/OpenStreetMap link or ``geo:`` URI
the resident pasted, or a plain ``lat, lon`` pair typed into the text.

Everything here is pure and offline: short links (``goo.gl/maps``, ``maps.app.goo.gl``) would need
a network call to resolve, so they are ignored and the resident is asked for a location instead.
The one I/O is :func:`load_city_bounds` reading the city's boundary file at start-up.

Coordinates are always (lat, lon) here; GeoJSON and shapely use (x=lon, y=lat), converted at the
edge.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from socialbot._urls import find_urls
from socialbot.domain import BBox, GeoPoint, Location, LocationSource, Place
from socialbot.errors import ConfigError

# IUGG mean Earth radius: the usual choice for haversine; the error (<0.5%) is irrelevant here.
EARTH_RADIUS_M = 6_371_008.8
BOUNDS_SETTING = "SOCIALBOT_CITY_BOUNDS"

# ---------------------------------------------------------------------------------------------
# Distances and places


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres; accurate enough to tell a street from a city."""
    phi_a, phi_b = math.radians(a.lat), math.radians(b.lat)
    d_phi = phi_b - phi_a
    d_lambda = math.radians(b.lon - a.lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    # Rounding can push h a hair above 1 for antipodal points, which asin would reject.
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def place_centroid(place_bbox: BBox, max_diagonal_m: float) -> GeoPoint | None:
    """The centre of a place's bbox, but only when the place is small enough to mean a spot.

    X tags posts with places from a POI (a zero-size bbox: its point) up to a whole city; the
    centre of Boston is no location for a pothole, so a bbox whose diagonal exceeds
    ``max_diagonal_m`` gives None. A bbox that is not a position on Earth also gives None: it came
    from the network, and a bad one should cost a follow-up question, not a crash.
    """
    if not _is_position(place_bbox.south, place_bbox.west) or not _is_position(
        place_bbox.north, place_bbox.east
    ):
        return None
    if place_bbox.south > place_bbox.north:
        return None
    south_west = GeoPoint(place_bbox.south, place_bbox.west)
    north_east = GeoPoint(place_bbox.north, place_bbox.east)
    if haversine_m(south_west, north_east) > max_diagonal_m:
        return None
    east = place_bbox.east
    if place_bbox.west > east:  # GeoJSON's way of saying the box crosses the antimeridian
        east += 360.0
    lon = (place_bbox.west + east) / 2
    if lon > 180.0:
        lon -= 360.0
    return GeoPoint((place_bbox.south + place_bbox.north) / 2, lon)


def best_location(
    *,
    coordinates: GeoPoint | None,
    place: Place | None,
    text: str,
    expanded_urls: Sequence[str],
    max_place_diagonal_m: float,
) -> Location | None:
    """The most trustworthy location a post offers, or None when it offers none worth using.

    Best first: the post's own coordinates (the device's GPS), the centre of a small tagged place,
    then what the resident wrote (a map link, then a ``lat, lon`` pair; see
    :func:`location_from_text`).
    """
    if coordinates is not None:
        return Location(coordinates, LocationSource.EXACT)
    if place is not None and place.bbox is not None:
        centre = place_centroid(place.bbox, max_place_diagonal_m)
        if centre is not None:
            return Location(centre, LocationSource.PLACE)
    return location_from_text(text, expanded_urls)


# ---------------------------------------------------------------------------------------------
# Map links and coordinates in the text

_NUMBER = r"[+-]?[0-9]+(?:\.[0-9]+)?"
_NUMBER_RE = re.compile(rf"\s*({_NUMBER})\s*")
# A query value that is nothing but a pair, optionally labelled: "42.36,-71.05",
# "loc:42.36,-71.05", "42.36,-71.05 (Pothole)". A search for "9, 12 Elm St" is not a pair.
_PAIR_VALUE = re.compile(rf"\s*(?:loc:\s*)?({_NUMBER})\s*,\s*({_NUMBER})\s*(?:\(.*\))?\s*")
# Google's data parameter: !3d<lat>!4d<lon> is where the pin is.
_GOOGLE_PIN = re.compile(rf"!3d({_NUMBER})!4d({_NUMBER})")
# Google's "/@lat,lon,17z": where the camera is, which is near the pin but not on it.
_GOOGLE_CAMERA = re.compile(rf"/@({_NUMBER}),({_NUMBER})(?=[,/]|$)")
# Google's "/maps/search/42.36,-71.05" and "/maps/place/42.36,-71.05/...".
_GOOGLE_PATH_PAIR = re.compile(r"/maps/(?:search|place)/([^/]+)")
_GOOGLE_HOST = re.compile(r"(?:maps\.)?google\.(?:com|(?:co|com)\.[a-z]{2}|[a-z]{2})")
_OSM_HOSTS = frozenset({"openstreetmap.org", "osm.org"})
_OSM_MAP_FRAGMENT = re.compile(rf"\s*{_NUMBER}/({_NUMBER})/({_NUMBER})\s*")
# RFC 5870: geo:lat,lon[,alt][;crs=..][;u=..][;other params][?query]
_GEO_URI = re.compile(
    rf"(?<![\w.+-])geo:({_NUMBER}),({_NUMBER})(?:,{_NUMBER})?"
    r"(?P<params>(?:;[^\s;?#]*)*)(?:\?(?P<query>[^\s#]*))?",
    re.IGNORECASE,
)
_GEO_CRS = re.compile(r";crs=([^;]*)", re.IGNORECASE)
# Any "scheme://..." run: not a place to look for typed coordinates even if X would not link it.
_SCHEME_URL = re.compile(r"[a-z][a-z0-9+.\-]*://\S+", re.IGNORECASE)

_SIGN = r"[+\-\u2212]"  # U+2212 MINUS SIGN: what some phones and word processors paste
# A typed pair: "42.3601, -71.0589", "(42.3601 -71.0589)", "42.3601° N, 71.0589° W". At least three
# decimals on both numbers (about 100 m: anything coarser cannot find a pothole), which rules out
# "5,30", "Route 9, 12", "1,000,000" and times or prices like "10.30, 11.45"; what comes before
# must not make the first number the tail of a price, a word, a path or a longer number.
_TEXT_PAIR = re.compile(
    rf"""
    (?<![\w.,$€£¥+\-\u2212/#@])
    (?P<lat>{_SIGN}?[0-9]{{1,2}}\.[0-9]{{3,}})(?:\s*°)?(?:\s*(?P<ns>[NS])(?![A-Za-z]))?
    (?:\s*,\s*|\s+)
    (?P<lon>{_SIGN}?[0-9]{{1,3}}\.[0-9]{{3,}})(?:\s*°)?(?:\s*(?P<ew>[EW])(?![A-Za-z]))?
    (?![\w%€$£¥]|\.[0-9]|\s*,\s*{_SIGN}?[0-9])
    """,
    re.VERBOSE,
)
# The pair would be the second half of a list of numbers ("1.23, 4.56, 7.89").
_NUMBER_LIST_BEFORE = re.compile(r"[0-9]\s*,\s*$")


def location_from_text(text: str, expanded_urls: Sequence[str]) -> Location | None:
    """Coordinates the resident linked or typed, or None.

    X rewrites links in ``text`` to t.co, so links are read from ``expanded_urls`` first, then
    from the text itself (a link X did not shorten, a ``geo:`` URI). Any recognised map link
    (source MAP_LINK) beats a ``lat, lon`` pair typed in the text (source TEXT); within each kind
    the first usable one wins. A pair inside a link is never read as typed coordinates.
    """
    links = [*expanded_urls, *_links_in_text(text)]
    for link in links:
        point = _point_from_link(link)
        if point is not None:
            return Location(point, LocationSource.MAP_LINK)
    point = _typed_pair(_without_links(text))
    return Location(point, LocationSource.TEXT) if point is not None else None


def _point_from_link(link: str) -> GeoPoint | None:
    """The position a Google/Apple/OpenStreetMap link or ``geo:`` URI points at, or None.

    Each provider's link can carry both a pin and a viewport (the camera); the pin is preferred
    because the camera is merely near it. Anything else, including short links, gives None.
    """
    link = link.strip()
    if link[:4].lower() == "geo:":
        return _point_from_geo_uri(link)
    if "://" not in link:  # "maps.google.com/?q=..." as typed, which X links without a scheme
        link = "https://" + link
    try:
        parts = urlsplit(link)
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:  # e.g. an invalid IPv6 host or port: not a map link
        return None
    mapped = _MapLink(
        host=host,
        path=unquote(parts.path),
        raw=parts.path + "?" + parts.query,
        params=tuple(parse_qsl(parts.query)),
        fragment_params=tuple(parse_qsl(parts.fragment)),
    )
    reader = _reader_for(mapped)
    return reader(mapped) if reader is not None else None


@dataclass(frozen=True, slots=True)
class _MapLink:
    """The parts of a link the map readers look at (query values percent-decoded)."""

    host: str  # lower-case, without "www."
    path: str  # percent-decoded
    raw: str  # path and query as written, where Google's !3d..!4d.. data lives
    params: tuple[tuple[str, str], ...]
    fragment_params: tuple[tuple[str, str], ...]  # OSM's "#map=17/42.36/-71.05"

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)

    def fragment_param(self, name: str) -> str | None:
        return next((value for key, value in self.fragment_params if key == name), None)


_Reader = Callable[[_MapLink], GeoPoint | None]


def _reader_for(link: _MapLink) -> _Reader | None:
    if _GOOGLE_HOST.fullmatch(link.host) and (
        link.host.startswith("maps.") or link.path.startswith("/maps")
    ):
        return _google_point
    if link.host == "maps.apple.com":
        return _apple_point
    if link.host in _OSM_HOSTS:
        return _osm_point
    return None


def _google_point(link: _MapLink) -> GeoPoint | None:
    """Pin (!3d!4d) → searched point (q, query, /search/, /place/) → viewport (ll, center, /@)."""
    return (
        _first_pair(_GOOGLE_PIN, link.raw)
        or _pair_param(link, "q")
        or _pair_param(link, "query")
        or _google_path_pair(link.path)
        or _pair_param(link, "ll")
        or _pair_param(link, "center")
        or _first_pair(_GOOGLE_CAMERA, link.path)
    )


def _google_path_pair(path: str) -> GeoPoint | None:
    match = _GOOGLE_PATH_PAIR.search(path)
    # In a path "+" stands for a space: "/maps/search/42.36,+-71.05".
    return _pair_value(match.group(1).replace("+", " ")) if match else None


def _apple_point(link: _MapLink) -> GeoPoint | None:
    """Apple: coordinate (pin) → ll (pin when labelled) → q → sll (search hint) → center."""
    for name in ("coordinate", "ll", "q", "sll", "center"):
        point = _pair_param(link, name)
        if point is not None:
            return point
    return None


def _osm_point(link: _MapLink) -> GeoPoint | None:
    """OpenStreetMap: the marker (mlat/mlon) → the map view (#map=zoom/lat/lon)."""
    marker = _point_from_strings(link.param("mlat"), link.param("mlon"))
    if marker is not None:
        return marker
    view = link.fragment_param("map")
    match = _OSM_MAP_FRAGMENT.fullmatch(view) if view is not None else None
    return _point_from_strings(match.group(1), match.group(2)) if match else None


def _point_from_geo_uri(uri: str) -> GeoPoint | None:
    """RFC 5870 ``geo:`` URI; Android's ``geo:0,0?q=lat,lon(label)`` means "see q"."""
    match = _GEO_URI.match(uri)
    if match is None:
        return None
    crs = _GEO_CRS.search(match.group("params"))
    if crs is not None and crs.group(1).lower() != "wgs84":  # the only CRS RFC 5870 defines
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if lat == 0.0 and lon == 0.0:
        query = match.group("query") or ""
        q = next((v for k, v in parse_qsl(query) if k == "q"), None)
        return _pair_value(q) if q is not None else None
    return _point(lat, lon)


def _pair_param(link: _MapLink, name: str) -> GeoPoint | None:
    value = link.param(name)
    return _pair_value(value) if value is not None else None


def _pair_value(value: str) -> GeoPoint | None:
    match = _PAIR_VALUE.fullmatch(value)
    return _point_from_strings(match.group(1), match.group(2)) if match else None


def _first_pair(pattern: re.Pattern[str], value: str) -> GeoPoint | None:
    match = pattern.search(value)
    return _point_from_strings(match.group(1), match.group(2)) if match else None


def _point_from_strings(lat: str | None, lon: str | None) -> GeoPoint | None:
    if lat is None or lon is None:
        return None
    lat_match, lon_match = _NUMBER_RE.fullmatch(lat), _NUMBER_RE.fullmatch(lon)
    if lat_match is None or lon_match is None:
        return None
    return _point(float(lat_match.group(1)), float(lon_match.group(1)))


def _links_in_text(text: str) -> list[str]:
    """Links X would find in the text, and geo: URIs (which X does not link), in text order."""
    found = [(span.start, span.url) for span in find_urls(text)]
    found += [(m.start(), m.group(0)) for m in _GEO_URI.finditer(text)]
    return [url for _, url in sorted(found)]


def _without_links(text: str) -> str:
    """``text`` with every link blanked out, so that "?q=42.36,-71.05" is not read as typed."""
    spans = [(span.start, span.end) for span in find_urls(text)]
    spans += [m.span() for m in _GEO_URI.finditer(text)]
    spans += [m.span() for m in _SCHEME_URL.finditer(text)]
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _typed_pair(text: str) -> GeoPoint | None:
    for match in _TEXT_PAIR.finditer(text):
        if _NUMBER_LIST_BEFORE.search(text, 0, match.start()):
            continue
        point = _typed_point(match)
        if point is not None:
            return point
    return None


def _typed_point(match: re.Match[str]) -> GeoPoint | None:
    """The pair's position; a hemisphere letter gives the sign and forbids one of its own."""
    lat_text = match.group("lat").replace("\u2212", "-")
    lon_text = match.group("lon").replace("\u2212", "-")
    lat, lon = float(lat_text), float(lon_text)
    ns, ew = match.group("ns"), match.group("ew")
    if (ns and lat_text[0] in "+-") or (ew and lon_text[0] in "+-"):
        return None  # "-42.36 S" is ambiguous: better to ask than to guess
    if ns == "S":
        lat = -lat
    if ew == "W":
        lon = -lon
    return _point(lat, lon)


def _is_position(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def _point(lat: float, lon: float) -> GeoPoint | None:
    return GeoPoint(lat, lon) if _is_position(lat, lon) else None


# ---------------------------------------------------------------------------------------------
# City bounds


@dataclass(frozen=True, slots=True)
class CityBounds:
    """The city's area; intake only asks whether a report's point lies in it.

    Backed by a prepared shapely geometry in (lon, lat), so that a detailed boundary polygon
    costs little per test. A point on the boundary counts as inside: a pothole on the city line
    is the city's to look at.
    """

    area: BaseGeometry
    description: str  # what the setting said: the bbox or the file, for logs and messages

    def __post_init__(self) -> None:
        shapely.prepare(self.area)

    @classmethod
    def from_bbox(cls, bbox: BBox) -> CityBounds:
        """Bounds from a box; west < east and south < north (no antimeridian-crossing city)."""
        area = shapely.box(bbox.west, bbox.south, bbox.east, bbox.north)
        return cls(area, f"{bbox.west},{bbox.south},{bbox.east},{bbox.north}")

    def contains(self, point: GeoPoint) -> bool:
        return bool(shapely.intersects_xy(self.area, point.lon, point.lat))


_FORMS = "expected west,south,east,north in degrees or a GeoJSON (Multi)Polygon file"
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# A value with a path separator or a .json/.geojson name is a file, even if it has a comma.
_PATH_LIKE = re.compile(r"[/\\]|\.(?:geo)?json$", re.IGNORECASE)
_BBOX_PARTS = ("west", "south", "east", "north")


def read_geojson(path: Path, setting: str, *, missing: str) -> object:
    """The JSON in a GeoJSON file named by `setting`; a one-line ConfigError naming the setting,
    the file (and the line, for bad JSON) otherwise. `missing` says what the file should be."""
    where = f"{setting}: {path}"
    try:
        # utf-8-sig: Windows GIS tools often write a byte-order mark, which JSON does not allow.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file; {missing}") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text; expected a GeoJSON file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON ({exc.msg} at column {exc.colno})"
        raise ConfigError(f"{setting}: {path}:{exc.lineno}: {problem}") from None


def parse_city_bounds(value: str, *, base_dir: Path | None = None) -> CityBounds:
    """The ``SOCIALBOT_CITY_BOUNDS`` setting: ``west,south,east,north``, or a GeoJSON file.

    A relative file path is taken relative to ``base_dir`` (the working directory when None).
    Every problem is a :class:`ConfigError` naming the setting and what to fix, because this runs
    once at start-up and a bot that checks the wrong area would quietly turn residents away.
    """
    text = value.strip()
    if not text:
        raise ConfigError(f"{BOUNDS_SETTING}: empty; {_FORMS}")
    if "," in text and not _PATH_LIKE.search(text):
        return CityBounds.from_bbox(_parse_bbox(text))
    path = Path(text).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    return load_city_bounds(path)


def _parse_bbox(text: str) -> BBox:
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != len(_BBOX_PARTS):
        count = len(parts)
        raise ConfigError(
            f"{BOUNDS_SETTING}: expected 4 numbers west,south,east,north, got {count} ({text!r})"
        )
    for name, part in zip(_BBOX_PARTS, parts, strict=True):
        if not _DECIMAL.fullmatch(part):
            raise ConfigError(f"{BOUNDS_SETTING}: {name} is not a number ({part!r}); {_FORMS}")
    west, south, east, north = (float(part) for part in parts)
    for name, degrees, limit, kind in (
        ("west", west, 180.0, "longitude"),
        ("south", south, 90.0, "latitude"),
        ("east", east, 180.0, "longitude"),
        ("north", north, 90.0, "latitude"),
    ):
        if not -limit <= degrees <= limit:
            raise ConfigError(
                f"{BOUNDS_SETTING}: {name} ({degrees:g}) is not a {kind} (-{limit:g} to {limit:g})"
            )
    if west >= east:
        raise ConfigError(
            f"{BOUNDS_SETTING}: west ({west:g}) must be less than east ({east:g}); "
            "the order is west,south,east,north"
        )
    if south >= north:
        raise ConfigError(
            f"{BOUNDS_SETTING}: south ({south:g}) must be less than north ({north:g}); "
            "the order is west,south,east,north"
        )
    return BBox(west, south, east, north)


class _BoundsFileError(Exception):
    """A problem with the file's content; load_city_bounds adds the setting and file name."""


def load_city_bounds(path: Path) -> CityBounds:
    """City bounds from a GeoJSON Polygon or MultiPolygon: bare, in a Feature, or unioned from
    a FeatureCollection's features. Coordinates must be WGS 84 longitude, latitude (RFC 7946).

    Slightly invalid polygons (a self-touching ring, as GIS exports sometimes have) are repaired
    rather than refused: for a point-in-area test the repaired shape is what the city meant.
    """
    where = f"{BOUNDS_SETTING}: {path}"
    data = read_geojson(path, BOUNDS_SETTING, missing=_FORMS)
    try:
        area = _area_from_geojson(data)
    except _BoundsFileError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return CityBounds(area, str(path))


AREA_TYPES = ("Polygon", "MultiPolygon")
_WANTED = "expected a Polygon or MultiPolygon, bare or in a Feature or FeatureCollection"


def _area_from_geojson(data: object) -> BaseGeometry:
    kind = data.get("type") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(kind, str):
        raise _BoundsFileError(f'not a GeoJSON object (no "type"); {_WANTED}')
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise _BoundsFileError('the FeatureCollection has no "features" list')
        geometries = [_feature_geometry(f, index) for index, f in enumerate(features)]
        areas = [g for g in geometries if g is not None]
        if not areas:
            raise _BoundsFileError(f"the FeatureCollection has no polygon; {_WANTED}")
        area = shapely.union_all(areas)
    elif kind == "Feature":
        geometry = _feature_geometry(data, None)
        if geometry is None:
            raise _BoundsFileError(f"the Feature has no geometry; {_WANTED}")
        area = geometry
    else:
        area = _polygonal(data, "")
    if area.is_empty:
        raise _BoundsFileError(f"the polygons are empty; {_WANTED}")
    problem = degrees_problem(area)
    if problem is not None:
        raise _BoundsFileError(problem)
    return area


def _feature_geometry(feature: object, index: int | None) -> BaseGeometry | None:
    """A feature's area; None for a feature without a geometry (GeoJSON allows those)."""
    label = "the Feature" if index is None else f"feature {index}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _BoundsFileError(f"{label} is not a GeoJSON Feature")
    geometry = feature.get("geometry")
    return None if geometry is None else _polygonal(geometry, f"{label}: ")


def _polygonal(geometry: object, label: str) -> BaseGeometry:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if not isinstance(geometry, dict) or kind not in AREA_TYPES:
        found = f"a {kind}" if isinstance(kind, str) else "not a geometry"
        raise _BoundsFileError(f"{label}{found} is not an area; {_WANTED}")
    try:
        area = shape(geometry)
    except (ShapelyError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise _BoundsFileError(f"{label}malformed {kind} coordinates ({exc})") from None
    return area if area.is_valid else repaired(area)


def repaired(area: BaseGeometry) -> BaseGeometry:
    """An invalid area (a self-touching ring, as GIS exports sometimes have) as the city meant
    it: make_valid may leave lines or points where a ring collapsed, so only the areas are kept."""
    parts = shapely.get_parts(shapely.make_valid(area))
    return shapely.union_all([p for p in parts if isinstance(p, Polygon | MultiPolygon)])


def degrees_problem(area: BaseGeometry) -> str | None:
    """What is wrong when `area` is not in longitude,latitude degrees: city GIS exports are often
    in a projected CRS (feet or metres). None when it is."""
    west, south, east, north = area.bounds
    if west < -180.0 or east > 180.0 or south < -90.0 or north > 90.0:
        return (
            f"coordinates are not longitude,latitude degrees (bounds {west:.10g},{south:.10g},"
            f"{east:.10g},{north:.10g}); export the file in WGS 84 (EPSG:4326)"
        )
    return None
