"""Geocoders' answers in their real shapes, for `responses`.

Nominatim's `/search?format=json` places are as its docs' "Place Output" shows them (strings for
`lat`, `lon`, `place_id` a number since 4.x, `class`/`type` the OSM tag, `boundingbox` strings);
ArcGIS's `findAddressCandidates?f=json` as Esri's REST reference shows it (`spatialReference`,
`candidates` of `address`, `location` x/y, `score`, `attributes`, `extent`). Points are in Boston.
"""

from __future__ import annotations

from typing import Any

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"


def nominatim_house(lat: float = 42.3523, lon: float = -71.0552) -> dict[str, Any]:
    """An address point: what Nominatim answers for a house number it knows."""
    return {
        "place_id": 334172154,
        "licence": LICENCE,
        "osm_type": "node",
        "osm_id": 4612933214,
        "lat": f"{lat}",
        "lon": f"{lon}",
        "class": "place",
        "type": "house",
        "place_rank": 30,
        "importance": 9.99999999995449e-06,
        "addresstype": "place",
        "name": "",
        "display_name": "123, Main Street, Charlestown, Boston, Suffolk County, Massachusetts, "
        "02129, United States",
        "boundingbox": [
            f"{lat - 0.00005}",
            f"{lat + 0.00005}",
            f"{lon - 0.00005}",
            f"{lon + 0.00005}",
        ],
    }


def nominatim_building(lat: float = 42.3601, lon: float = -71.0589) -> dict[str, Any]:
    return nominatim_house(lat, lon) | {"osm_type": "way", "class": "building", "type": "yes"}


def nominatim_street(lat: float = 42.3751, lon: float = -71.0637) -> dict[str, Any]:
    """A whole street: what Nominatim falls back to for a number or a corner it does not know."""
    return nominatim_house(lat, lon) | {
        "osm_type": "way",
        "class": "highway",
        "type": "secondary",
        "place_rank": 26,
        "addresstype": "road",
        "name": "Main Street",
        "display_name": "Main Street, Charlestown, Boston, Suffolk County, Massachusetts, "
        "02129, United States",
    }


def nominatim_city() -> dict[str, Any]:
    return nominatim_house(42.3554, -71.0605) | {
        "osm_type": "relation",
        "class": "boundary",
        "type": "administrative",
        "place_rank": 16,
        "addresstype": "city",
        "name": "Boston",
        "display_name": "Boston, Suffolk County, Massachusetts, United States",
    }


def arcgis_answer(*candidates: dict[str, Any], wkid: int = 4326) -> dict[str, Any]:
    return {"spatialReference": {"wkid": wkid, "latestWkid": wkid}, "candidates": list(candidates)}


def arcgis_candidate(
    x: float = -71.0552, y: float = 42.3523, *, score: float = 100, kind: str = "PointAddress"
) -> dict[str, Any]:
    return {
        "address": "123 Main St, Boston, Massachusetts, 02129",
        "location": {"x": x, "y": y},
        "score": score,
        "attributes": {"Addr_type": kind},
        "extent": {"xmin": x - 0.001, "ymin": y - 0.001, "xmax": x + 0.001, "ymax": y + 0.001},
    }


# What a locator answers, with HTTP 200, to a request it refuses (an expired token, a bad
# parameter): Esri's error object.
ARCGIS_ERROR = {"error": {"code": 498, "message": "Invalid Token", "details": []}}
