"""The geocoders' requests and answers, pure: no HTTP here, only what is asked and what is read.

Nominatim (`/search?q=…&format=json`, https://nominatim.org/release-docs/latest/api/Search/)
answers a JSON array of places, `lat` and `lon` as strings; ArcGIS's locator
(`…/GeocodeServer/findAddressCandidates?SingleLine=…&f=json`) an object of `candidates`, each with
a `location` (`x` longitude, `y` latitude in the `outSR` asked: 4326, since a city's own locator
often works in its state plane's feet) and a `score` from 0 to 100, or, with HTTP 200 all the
same, an `error` object. Either may answer anything: every field is checked, and an answer we
cannot read is a `GeocoderError` naming what was wrong, never an exception of the parser.

A point is only taken where it means the address: a Nominatim place that is a whole street, a
neighbourhood, a town or a boundary (what it falls back to for an intersection or a number it
does not know) is no answer; nor is an ArcGIS candidate scored under the minimum, or one whose
`Addr_type` is a locality, a postal code or a street's whole length.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from socialbot.domain import BBox, GeoPoint
from socialbot.errors import GeocoderError

MAX_BODY = 1024 * 1024  # an answer of a few candidates is a few kilobytes
CANDIDATES = 5  # asked for: the first one in the city wins

# Nominatim's `class` values (the OSM key of the place's main tag) that never mean one address.
_NOT_ADDRESSES = frozenset({"boundary", "highway", "landuse", "natural", "waterway", "railway"})
# A `place` is one address only as a house (an address point or interpolation) or a building.
_PLACE_ADDRESSES = frozenset({"house", "building", "address"})
# ArcGIS's `Addr_type`s that are an area or a whole street, not a spot on one.
_ARCGIS_AREAS = frozenset(
    {
        "Locality",
        "Postal",
        "PostalLoc",
        "PostalExt",
        "Admin",
        "StreetName",
        "Zone",
        "District",
        "Neighborhood",
        "City",
        "Subregion",
        "Region",
        "Country",
    }
)


@dataclass(frozen=True, slots=True)
class Request:
    """A GET: the URL and its query parameters, in order."""

    url: str
    params: tuple[tuple[str, str], ...]


def nominatim_request(base_url: str, query: str, box: BBox | None) -> Request:
    """A search for `query`; within `box` only (`bounded=1`), when the city has bounds."""
    params = [
        ("q", query),
        ("format", "json"),
        ("limit", str(CANDIDATES)),
        ("addressdetails", "0"),
    ]
    if box is not None:  # Nominatim's viewbox is <x1>,<y1>,<x2>,<y2>: two corners, lon first
        params += [("viewbox", f"{box.west},{box.north},{box.east},{box.south}"), ("bounded", "1")]
    return Request(base_url.rstrip("/") + "/search", tuple(params))


def arcgis_request(locator_url: str, query: str, box: BBox | None) -> Request:
    """`findAddressCandidates` for `query` on the locator, answered in WGS 84; within `box`
    (`searchExtent`, its spatial reference said) when the city has bounds."""
    params = [
        ("SingleLine", query),
        ("f", "json"),
        ("outSR", "4326"),
        ("maxLocations", str(CANDIDATES)),
        ("outFields", "Addr_type"),
    ]
    if box is not None:
        extent = {
            "xmin": box.west,
            "ymin": box.south,
            "xmax": box.east,
            "ymax": box.north,
            "spatialReference": {"wkid": 4326},
        }
        params.append(("searchExtent", json.dumps(extent, separators=(",", ":"))))
    return Request(locator_url.rstrip("/") + "/findAddressCandidates", tuple(params))


def nominatim_points(body: bytes) -> list[GeoPoint]:
    """The points of Nominatim's answer that are addresses, best first."""
    data = _json(body, "Nominatim")
    if not isinstance(data, list):
        if isinstance(data, dict) and "error" in data:
            raise GeocoderError(f"Nominatim answered an error: {_said(data['error'])}")
        raise GeocoderError("Nominatim answered JSON that is not a list of places")
    points = []
    for place in data[:CANDIDATES]:
        if not isinstance(place, dict):
            raise GeocoderError("Nominatim answered a place that is not a JSON object")
        kind, value = place.get("class"), place.get("type")
        if kind in _NOT_ADDRESSES or (kind == "place" and value not in _PLACE_ADDRESSES):
            continue
        point = _point(place.get("lat"), place.get("lon"))
        if point is not None:
            points.append(point)
    return points


def arcgis_points(body: bytes, min_score: float) -> list[GeoPoint]:
    """The points of the locator's candidates that are addresses scored `min_score` or more,
    in its order (best first)."""
    data = _json(body, "the ArcGIS locator")
    if not isinstance(data, dict):
        raise GeocoderError("the ArcGIS locator answered JSON that is not an object")
    if "error" in data:  # HTTP 200 with {"error": {"code": 498, "message": "Invalid Token"}}
        raise GeocoderError(f"the ArcGIS locator answered an error: {_said(data['error'])}")
    reference = data.get("spatialReference")
    if isinstance(reference, dict):
        wkid = reference.get("latestWkid", reference.get("wkid"))
        if wkid not in (None, 4326):
            raise GeocoderError(
                f"the ArcGIS locator answered in spatial reference {wkid!r}, not 4326"
            )
    candidates = data.get("candidates")
    if not isinstance(candidates, list):
        raise GeocoderError('the ArcGIS locator answered no "candidates" list')
    points = []
    for candidate in candidates[:CANDIDATES]:
        if not isinstance(candidate, dict):
            raise GeocoderError("the ArcGIS locator answered a candidate that is not an object")
        score = candidate.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float) or score < min_score:
            continue
        attributes = candidate.get("attributes")
        if isinstance(attributes, dict) and attributes.get("Addr_type") in _ARCGIS_AREAS:
            continue
        location = candidate.get("location")
        if not isinstance(location, dict):
            continue
        point = _point(location.get("y"), location.get("x"))
        if point is not None:
            points.append(point)
    return points


def _json(body: bytes, service: str) -> object:
    if len(body) > MAX_BODY:
        raise GeocoderError(f"{service} answered more than {MAX_BODY} bytes")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise GeocoderError(f"{service} answered what is not JSON") from None


def _point(lat: object, lon: object) -> GeoPoint | None:
    """A position from numbers or numeric strings (Nominatim's), else None."""
    values = []
    for value in (lat, lon):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return None
        if not math.isfinite(number):
            return None
        values.append(number)
    if not (-90.0 <= values[0] <= 90.0 and -180.0 <= values[1] <= 180.0):
        return None
    return GeoPoint(values[0], values[1])


def _said(error: object) -> str:
    """What an error object says, one line and short: its code and message."""
    if isinstance(error, dict):
        parts: Sequence[object] = (error.get("code"), error.get("message"))
        text = " ".join(str(p) for p in parts if p is not None)
    else:
        text = str(error)
    return " ".join(text.split())[:200] or "(nothing said)"
