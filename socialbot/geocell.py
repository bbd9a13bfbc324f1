"""A grid over the Earth for "open cases within R metres of here", at a cost that does not grow.

Each case stores the cell its point lies in (an indexed column); a new report asks for
``cell IN cells_near(point, radius_m)``, which returns a handful of rows, and only those are
measured exactly with :func:`socialbot.location.haversine_m`. The cost per mention depends on how
many cases share a few cells, not on how many cases the city has ever had.

The cells are **geohash cells of precision 7** (seven base-32 characters): 0.001373° of longitude
by 0.001373° of latitude, that is 152.7 m north-south everywhere and 152.9 m times cos(latitude)
east-west (113 m in Boston). Geohash rather than a home-made grid because the keys mean the same
thing in PostGIS (``ST_GeoHash(geom, 7)``), QGIS and every geohash library, so staff and tools can
read them; and a cell's key is a prefix of every finer cell's, should a finer grid ever be wanted.

:func:`cells_near` returns every cell that a circle of ``radius_m`` touches, and no cell it does
not touch (up to a metre's tolerance), so the exact filter afterwards never misses a case. The
number of cells grows with the square of the radius: at Boston's latitude, 50 m needs at most 4
cells, 250 m at most 24, 1 km at most about 220. Radii up to :data:`MAX_RADIUS_M` (1 km) are
accepted; the duplicate radius of a 311 category is tens of metres. Longitude does not wrap at
±180° (no city straddles it), and latitudes beyond ±80° are refused (no city there either, and the
cells grow thin).
"""

from __future__ import annotations

import math

from socialbot.domain import BBox, GeoPoint
from socialbot.location import EARTH_RADIUS_M, haversine_m

PRECISION = 7
# Precision 7 = 35 bits, interleaved from longitude first: 18 bits of longitude, 17 of latitude.
_LON_BITS = (PRECISION * 5 + 1) // 2
_LAT_BITS = (PRECISION * 5) // 2
_LON_CELLS = 1 << _LON_BITS
_LAT_CELLS = 1 << _LAT_BITS
CELL_LAT_DEGREES = 180.0 / _LAT_CELLS
CELL_LON_DEGREES = 360.0 / _LON_CELLS
MAX_RADIUS_M = 1000.0
MAX_LATITUDE = 80.0
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_BASE32_INDEX = {char: value for value, char in enumerate(_BASE32)}
# haversine_m rounds; a cell that some point of it is this close to being in range is kept.
_TOLERANCE_M = 1.0


def cell_of(point: GeoPoint) -> str:
    """The geohash-7 cell the point lies in: what a case stores in its indexed ``cell`` column.

    A point on a cell's west or south edge belongs to that cell; on its east or north edge, to
    the neighbour (the usual geohash convention, so keys match other tools').
    """
    return _encode(_lat_index(point.lat), _lon_index(point.lon))


def cells_near(point: GeoPoint, radius_m: float) -> tuple[str, ...]:
    """Every cell holding a point within ``radius_m`` of ``point``, the point's own cell first.

    Why not just the cell and its eight neighbours: a point near a cell's corner needs only up to
    four cells for a small radius (fewer rows to read), and a radius larger than a cell needs more
    than nine (else a duplicate two cells away would be missed). Cells the circle's bounding box
    reaches but the circle itself does not are dropped.

    ``radius_m`` must be between 0 and :data:`MAX_RADIUS_M`; the point within ±80° latitude.
    A ValueError otherwise: these are the caller's constants, not residents' input.
    """
    if not 0.0 <= radius_m <= MAX_RADIUS_M:
        raise ValueError(f"radius {radius_m:g} m is outside 0 to {MAX_RADIUS_M:g} m")
    if abs(point.lat) > MAX_LATITUDE:
        raise ValueError(f"latitude {point.lat:g} is beyond ±{MAX_LATITUDE:g}°: not a city grid")
    # The circle's exact bounding box on the sphere (a spherical cap of angular radius r): the
    # latitudes are lat ± r, and the widest longitude offset is asin(sin r / cos lat), reached a
    # little poleward of the centre, wider than r / cos(lat) along the parallel would suggest.
    r = radius_m / EARTH_RADIUS_M
    d_lat = math.degrees(r) + 1e-9
    d_lon = math.degrees(math.asin(min(1.0, math.sin(r) / math.cos(math.radians(point.lat)))))
    d_lon += 1e-9
    lat_low, lat_high = _lat_index(point.lat - d_lat), _lat_index(point.lat + d_lat)
    lon_low, lon_high = _lon_index(point.lon - d_lon), _lon_index(point.lon + d_lon)
    home = (_lat_index(point.lat), _lon_index(point.lon))
    found = [
        (i, j)
        for i in range(lat_low, lat_high + 1)
        for j in range(lon_low, lon_high + 1)
        if (i, j) == home or _distance_to_cell_m(point, i, j) <= radius_m + _TOLERANCE_M
    ]
    found.sort(key=lambda ij: (ij != home, ij))
    return tuple(_encode(i, j) for i, j in found)


def cell_bounds(cell: str) -> BBox:
    """The cell's box (west, south, east, north): for drawing hotspots or labelling them.

    A ValueError for anything that is not a geohash of precision 7.
    """
    i, j = _decode(cell)
    return _box(i, j)


def cell_centre(cell: str) -> GeoPoint:
    """The middle of a cell: where a hotspot's marker goes on a map."""
    box = cell_bounds(cell)
    return GeoPoint((box.south + box.north) / 2, (box.west + box.east) / 2)


# ---------------------------------------------------------------------------------------------
# Indices: row i counts cells from the south pole, column j from the antimeridian westward edge.


def _lat_index(lat: float) -> int:
    # Monotonic in lat (every float step here is), so the box of cells_near can never miss a cell.
    lat = min(90.0, max(-90.0, lat))
    return min(_LAT_CELLS - 1, math.floor((lat + 90.0) / 180.0 * _LAT_CELLS))


def _lon_index(lon: float) -> int:
    lon = min(180.0, max(-180.0, lon))
    return min(_LON_CELLS - 1, math.floor((lon + 180.0) / 360.0 * _LON_CELLS))


def _box(i: int, j: int) -> BBox:
    return BBox(
        west=j * CELL_LON_DEGREES - 180.0,
        south=i * CELL_LAT_DEGREES - 90.0,
        east=(j + 1) * CELL_LON_DEGREES - 180.0,
        north=(i + 1) * CELL_LAT_DEGREES - 90.0,
    )


def _distance_to_cell_m(point: GeoPoint, i: int, j: int) -> float:
    """Distance from ``point`` to the nearest point of cell (i, j), to within millimetres.

    Clamping latitude and longitude into the box gives the nearest point exactly along a meridian
    and a hair too far along a parallel (the great circle bends poleward); at these distances the
    difference is far below the tolerance cells_near allows.
    """
    box = _box(i, j)
    nearest = GeoPoint(
        min(box.north, max(box.south, point.lat)), min(box.east, max(box.west, point.lon))
    )
    return haversine_m(point, nearest)


def _encode(i: int, j: int) -> str:
    bits = 0
    for k in range(PRECISION * 5):
        # Even positions (from the most significant) carry longitude, odd ones latitude.
        value, width = (j, _LON_BITS) if k % 2 == 0 else (i, _LAT_BITS)
        bits = (bits << 1) | ((value >> (width - 1 - k // 2)) & 1)
    chars = [_BASE32[(bits >> (5 * (PRECISION - 1 - n))) & 31] for n in range(PRECISION)]
    return "".join(chars)


def _decode(cell: str) -> tuple[int, int]:
    if len(cell) != PRECISION or any(c not in _BASE32_INDEX for c in cell):
        raise ValueError(f"{cell!r} is not a geohash of {PRECISION} characters")
    bits = 0
    for char in cell:
        bits = (bits << 5) | _BASE32_INDEX[char]
    i = j = 0
    for k in range(PRECISION * 5):
        bit = (bits >> (PRECISION * 5 - 1 - k)) & 1
        if k % 2 == 0:
            j = (j << 1) | bit
        else:
            i = (i << 1) | bit
    return i, j
