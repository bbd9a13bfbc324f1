"""What geopy does not check in the geocoders' answers, pure: only what a place's JSON says.

geopy asks the service and reads each place into a `Location` (its point, and the place's JSON
as `Location.raw`); this module decides which of them mean one address. Either service may
answer anything, and geopy's reading is lenient (a place without `lat` is read as latitude 0):
every field decided on is checked here, and an answer we cannot read is a `GeocoderError`
naming what was wrong, never an exception of the parser.

A point is only taken where it means the address: a Nominatim place that is a whole street, a
neighbourhood, a town or a boundary (what it falls back to for an intersection or a number it
does not know) is no answer; nor is an ArcGIS candidate scored under the minimum, or one whose
`Addr_type` is a locality, a postal code or a street's whole length.

ArcGIS's locator (`…/GeocodeServer/findAddressCandidates?f=json`) answers an object of
`candidates`, each with a `location` (`x` longitude, `y` latitude in the `outSR` asked: 4326,
since a city's own locator often works in its state plane's feet) and a `score` from 0 to 100,
or, with HTTP 200 all the same, an `error` object; geopy reads the candidates but neither the
error's words nor the spatial reference, which `arcgis_refusal` does first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

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


def nominatim_is_address(place: object) -> bool:
    """Whether a Nominatim place (`Location.raw`) is one address with its position given."""
    if not isinstance(place, Mapping):
        return False
    kind, value = place.get("class"), place.get("type")
    if kind in _NOT_ADDRESSES or (kind == "place" and value not in _PLACE_ADDRESSES):
        return False
    return _position(place.get("lat"), place.get("lon"))


def arcgis_is_address(candidate: object, min_score: float) -> bool:
    """Whether an ArcGIS candidate (`Location.raw`) is an address scored `min_score` or more,
    with its position given."""
    if not isinstance(candidate, Mapping):
        return False
    score = candidate.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or score < min_score:
        return False
    attributes = candidate.get("attributes")
    if isinstance(attributes, Mapping) and attributes.get("Addr_type") in _ARCGIS_AREAS:
        return False
    location = candidate.get("location")
    return isinstance(location, Mapping) and _position(location.get("y"), location.get("x"))


def arcgis_refusal(answer: object) -> None:
    """A `GeocoderError` for a locator's answer that is a refusal or not candidates in WGS 84,
    before geopy reads the candidates."""
    if not isinstance(answer, Mapping):
        raise GeocoderError("the ArcGIS locator answered JSON that is not an object")
    if "error" in answer:  # HTTP 200 with {"error": {"code": 498, "message": "Invalid Token"}}
        raise GeocoderError(f"the ArcGIS locator answered an error: {_said(answer['error'])}")
    reference = answer.get("spatialReference")
    if isinstance(reference, Mapping):
        wkid = reference.get("latestWkid", reference.get("wkid"))
        if wkid not in (None, 4326):
            raise GeocoderError(
                f"the ArcGIS locator answered in spatial reference {wkid!r}, not 4326"
            )
    candidates = answer.get("candidates")
    if not isinstance(candidates, list):
        raise GeocoderError('the ArcGIS locator answered no "candidates" list')
    if not all(isinstance(c, Mapping) for c in candidates):
        raise GeocoderError("the ArcGIS locator answered a candidate that is not an object")


def said(text: object) -> str:
    """What a service said, one line and short."""
    return " ".join(str(text).split())[:200] or "(nothing said)"


def _position(lat: object, lon: object) -> bool:
    """Whether a latitude and a longitude are given as numbers or numeric strings (Nominatim's),
    finite and in range: geopy reads a missing one as 0 and wraps a longitude past 180."""
    values = []
    for value in (lat, lon):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return False
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return False
        if not math.isfinite(number):
            return False
        values.append(number)
    return -90.0 <= values[0] <= 90.0 and -180.0 <= values[1] <= 180.0


def _said(error: object) -> str:
    """What an error object says: its code and message."""
    if isinstance(error, Mapping):
        parts: Sequence[object] = (error.get("code"), error.get("message"))
        return said(" ".join(str(p) for p in parts if p is not None))
    return said(error)
