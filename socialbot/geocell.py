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
accepted; the duplicate radius of a 311 category is tens of metres.

Every WGS84 point has a cell and a neighbourhood, the poles and the antimeridian included: a
geotag is a resident's input (X serves posts at latitude 88°, most likely lon/lat swapped), and
refusing one made the whole report "malformed". Two things need care there:

* Longitude wraps: a circle around a point at 179.9999° reaches the cells at -180°.
* Geohash cells shrink to nothing east-west towards the poles (1.3 m wide at 89.5°, 3 mm next to
  the pole), so a fixed radius would need up to 2^18 cells a row. Poleward of about ±85° a row's
  columns are merged in runs of 2^k, k chosen per row so that a merged cell is, at its
  equatorward edge, never narrower than half a cell at 80° (13 m): a 1 km circle, even one
  around the pole, needs at most a few thousand cells. A merged cell's key is the geohash-7 of its
  westernmost column, so every key is still a geohash; equatorward of about ±85°, where no row is
  merged, keys are exactly standard geohash-7 (so nothing stored before changes).
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
# Polar rows merge their columns so that no cell is narrower than half a cell at this latitude.
MERGE_REFERENCE_LATITUDE = 80.0
_COS_REFERENCE = math.cos(math.radians(MERGE_REFERENCE_LATITUDE))
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_BASE32_INDEX = {char: value for value, char in enumerate(_BASE32)}
# haversine_m rounds; a cell that some point of it is this close to being in range is kept.
_TOLERANCE_M = 1.0


def cell_of(point: GeoPoint) -> str:
    """The cell the point lies in: what a case stores in its indexed ``cell`` column. Its
    geohash-7, except poleward of about ±85°, where it is the geohash-7 of the merged cell's
    westernmost column (see the module docstring).

    A point on a cell's west or south edge belongs to that cell; on its east or north edge, to
    the neighbour (the usual geohash convention, so keys match other tools').
    """
    i = _lat_index(point.lat)
    return _encode(i, _merged(i, _lon_index(point.lon)))


def cells_near(point: GeoPoint, radius_m: float) -> tuple[str, ...]:
    """Every cell holding a point within ``radius_m`` of ``point``, the point's own cell first.

    Why not just the cell and its eight neighbours: a point near a cell's corner needs only up to
    four cells for a small radius (fewer rows to read), and a radius larger than a cell needs more
    than nine (else a duplicate two cells away would be missed). Cells the circle's bounding box
    reaches but the circle itself does not are dropped.

    Any point will do (a GeoPoint is a WGS84 position: the poles and ±180° included).
    ``radius_m`` must be between 0 and :data:`MAX_RADIUS_M`: a ValueError otherwise (it is the
    caller's constant, not residents' input).
    """
    if not 0.0 <= radius_m <= MAX_RADIUS_M:
        raise ValueError(f"radius {radius_m:g} m is outside 0 to {MAX_RADIUS_M:g} m")
    # The circle's exact bounding box on the sphere (a spherical cap of angular radius r): the
    # latitudes are lat ± r, and the widest longitude offset is asin(sin r / cos lat), reached a
    # little poleward of the centre, wider than r / cos(lat) along the parallel would suggest.
    # A cap that holds a pole spans every longitude.
    r = radius_m / EARTH_RADIUS_M
    d_lat = math.degrees(r) + 1e-9
    lat_low, lat_high = _lat_index(point.lat - d_lat), _lat_index(point.lat + d_lat)
    every_lon = point.lat + d_lat >= 90.0 or point.lat - d_lat <= -90.0
    lon_low = lon_high = 0
    if not every_lon:
        d_lon = math.degrees(math.asin(min(1.0, math.sin(r) / math.cos(math.radians(point.lat)))))
        d_lon += 1e-9
        # Not clamped: past ±180° the columns wrap round (taken modulo below).
        lon_low, lon_high = _lon_step(point.lon - d_lon), _lon_step(point.lon + d_lon)
        every_lon = lon_high - lon_low + 1 >= _LON_CELLS
    home_row = _lat_index(point.lat)
    home = (home_row, _merged(home_row, _lon_index(point.lon)))
    found: dict[tuple[int, int], None] = {}  # ordered, and a column reached twice counts once
    for i in range(lat_low, lat_high + 1):
        shift = _row_shift(i)
        runs = (
            range(_LON_CELLS >> shift)
            if every_lon
            else range(lon_low >> shift, (lon_high >> shift) + 1)
        )
        for run in runs:
            j = (run << shift) % _LON_CELLS
            if (i, j) == home or _distance_to_box_m(point, _box(i, j)) <= radius_m + _TOLERANCE_M:
                found[(i, j)] = None
    ordered = sorted(found, key=lambda ij: (ij != home, ij))
    return tuple(_encode(i, j) for i, j in ordered)


def cell_bounds(cell: str) -> BBox:
    """The cell's box (west, south, east, north): for drawing hotspots or labelling them. A
    geohash-7 inside a merged polar cell gives the merged cell's box.

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
    return min(_LON_CELLS - 1, _lon_step(lon))


def _lon_step(lon: float) -> int:
    """The column of `lon` counted from -180°, beyond the ends too (-1 is the last column)."""
    return math.floor((lon + 180.0) / 360.0 * _LON_CELLS)


def _row_shift(i: int) -> int:
    """Row i merges its columns in runs of 2**shift: as many as keep a cell, at the row's
    equatorward edge, at least half as wide as one at MERGE_REFERENCE_LATITUDE (0 below ~85°)."""
    south = i * CELL_LAT_DEGREES - 90.0
    equatorward = min(abs(south), abs(south + CELL_LAT_DEGREES))
    ratio = _COS_REFERENCE / math.cos(math.radians(equatorward))
    return 0 if ratio < 2.0 else min(_LON_BITS, math.floor(math.log2(ratio)))


def _merged(i: int, j: int) -> int:
    """The first column of the merged cell of row i that column j lies in."""
    shift = _row_shift(i)
    return (j >> shift) << shift


def _box(i: int, j: int) -> BBox:
    first = _merged(i, j)
    return BBox(
        west=first * CELL_LON_DEGREES - 180.0,
        south=i * CELL_LAT_DEGREES - 90.0,
        east=(first + (1 << _row_shift(i))) * CELL_LON_DEGREES - 180.0,
        north=(i + 1) * CELL_LAT_DEGREES - 90.0,
    )


def _distance_to_box_m(point: GeoPoint, box: BBox) -> float:
    """Distance from ``point`` to the nearest point of ``box`` on the sphere, longitudes wrapping.

    When the point's meridian crosses the box, the nearest point is on that meridian, at the
    point's latitude clamped into the box. Otherwise it lies on the box's nearer meridian edge
    (along a parallel, the end nearer in longitude is nearest; a parallel is no great circle),
    where the great-circle foot of the point on that meridian, clamped into the box's latitudes,
    is nearest: close to a pole, wide merged cells make the difference more than the tolerance.
    """
    half = (box.east - box.west) / 2.0
    offset = (point.lon - (box.west + half) + 180.0) % 360.0 - 180.0  # from the box's middle
    if abs(offset) <= half:
        return haversine_m(point, GeoPoint(min(box.north, max(box.south, point.lat)), point.lon))
    edge = box.west if offset < 0 else box.east
    d_lon = math.radians(abs(offset) - half)
    phi = math.radians(point.lat)
    # The foot's latitude; past 90° of longitude the nearest point of the meridian is the pole.
    foot = math.degrees(math.atan2(math.sin(phi), math.cos(phi) * math.cos(d_lon)))
    foot = min(90.0, max(-90.0, foot))
    return haversine_m(point, GeoPoint(min(box.north, max(box.south, foot)), edge))


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
