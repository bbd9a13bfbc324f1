"""`GeopyGeocoder`: Nominatim or the city's ArcGIS locator, asked through geopy.

geopy knows each service's parameters, answers and errors; this adapter adds what a city's bot
needs around it. One request at a time (a lock: each network's poll job runs in its own thread,
and they share one geocoder), at most `requests_per_second` (Nominatim's public server allows
one a second); each answer remembered, found or not, so that a storm of "Main and 5th" asks
once; a point outside the city bounds is no answer, nor a place that is not one address
(`wire`). A failure (a 429, a 5xx, a timeout, an answer we cannot read) is a `GeocoderError`,
and holds the geocoder off for a while (the server's `Retry-After`, else `HOLD_SECONDS`): an
outage then costs the mentions no time, only their points.

geopy is imported here only; its exceptions become `GeocoderError`s at this boundary.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from geopy.adapters import AdapterHTTPError, RequestsAdapter
from geopy.exc import (
    ConfigurationError,
    GeocoderParseError,
    GeocoderQueryError,
    GeocoderRateLimited,
    GeocoderTimedOut,
    GeocoderUnavailable,
    GeopyError,
)
from geopy.geocoders import ArcGIS, Nominatim
from geopy.location import Location

from socialbot.domain import BBox, GeoPoint
from socialbot.errors import ConfigError, GeocoderError
from socialbot.geocoding import wire
from socialbot.geocoding.base import GeocoderConfig, GeocoderKind
from socialbot.location import CityBounds

log = logging.getLogger(__name__)
HOLD_SECONDS = 60.0  # after a failure, no request for this long (unless the server says)
MAX_HOLD_SECONDS = 3600.0  # a Retry-After further off is not believed
_CHUNK = 64 * 1024
# What geopy's reading of an odd answer raises (it indexes the JSON as the service documents
# it); RecursionError is the JSON parser's on a deeply nested body.
_UNREADABLE = (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError)

Clock = Callable[[], float]


class GeopyGeocoder:
    """The `Geocoder` of `config` (Nominatim or ArcGIS), within `bounds` when given."""

    def __init__(
        self,
        config: GeocoderConfig,
        bounds: CityBounds | None,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if config.kind is GeocoderKind.NONE:
            raise ValueError("no geocoder is configured")
        self.config = config
        self._bounds = bounds
        self._box = _box(bounds)
        self._service: Nominatim | CityLocator
        if config.kind is GeocoderKind.NOMINATIM:
            url = urlsplit(config.url)
            try:
                # geopy's `domain` may hold a path: a self-hosted Nominatim under /nominatim.
                self._service = Nominatim(
                    domain=url.netloc + url.path.rstrip("/"),
                    scheme=url.scheme,
                    user_agent=config.user_agent,
                    timeout=config.timeout_seconds,
                    adapter_factory=_adapter,
                )
            except ConfigurationError:  # the public server and a sample agent ("my-application")
                raise ConfigError(
                    f"SOCIALBOT_GEOCODER_USER_AGENT: {config.user_agent!r} is a sample geopy "
                    "refuses for the public Nominatim; name the city and a contact, e.g. "
                    "'socialbot (311@example.gov)'"
                ) from None
        else:
            self._service = CityLocator(
                config.url,
                user_agent=config.user_agent,
                timeout=config.timeout_seconds,
                adapter_factory=_adapter,
            )
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, GeoPoint | None] = OrderedDict()
        self._next_at = 0.0  # the clock's time before which no request is sent
        self._held_until = 0.0  # after a failure
        self.requests = 0  # sent, for the tests and the log

    @property
    def name(self) -> str:
        return f"{self.config.kind.value} at {self.config.url}"

    def close(self) -> None:
        self._service.adapter.session.close()

    def locate(self, query: str) -> GeoPoint | None:
        key = " ".join(query.casefold().split())
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
            now = self._clock()
            if now < self._held_until:
                raise GeocoderError(
                    f"{self.name} failed and is held off for {self._held_until - now:.0f} s more"
                )
            if now < self._next_at:
                self._sleep(self._next_at - now)
            try:
                point = self._ask(query)
            except _Held as exc:
                self._held_until = self._clock() + exc.hold_seconds
                raise
            except GeocoderError:
                self._held_until = self._clock() + HOLD_SECONDS
                raise
            finally:
                self._next_at = self._clock() + 1.0 / self.config.requests_per_second
            self._answers[key] = point
            while len(self._answers) > self.config.remembered:
                self._answers.popitem(last=False)
            return point

    def _ask(self, query: str) -> GeoPoint | None:
        config = self.config
        full = f"{query}, {config.region}" if config.region else query
        self.requests += 1
        try:
            if isinstance(self._service, CityLocator):
                found = self._service.candidates(full, self._box)
                places = [p for p in found or () if wire.arcgis_is_address(p.raw, config.min_score)]
            else:
                box = self._box
                found = self._service.geocode(
                    full,
                    exactly_one=False,
                    limit=wire.CANDIDATES,
                    viewbox=None if box is None else [(box.south, box.west), (box.north, box.east)],
                    bounded=box is not None,
                )
                places = [p for p in found or () if wire.nominatim_is_address(p.raw)]
        except GeocoderError:
            raise
        except GeopyError as exc:
            raise self._failure(exc) from None
        except _UNREADABLE:
            raise GeocoderError(f"{self.name} answered what we cannot read") from None
        points = [GeoPoint(p.latitude, p.longitude) for p in places[: wire.CANDIDATES]]
        inside = [p for p in points if self._bounds is None or self._bounds.contains(p)]
        return inside[0] if inside else None

    def _failure(self, exc: GeopyError) -> GeocoderError:
        """Ours for geopy's `exc`, saying what a person can act on."""
        if isinstance(exc, GeocoderRateLimited):
            wait = HOLD_SECONDS if exc.retry_after is None else float(exc.retry_after)
            return _Held(
                f"{self.name} answered 429 (too many requests)",
                max(0.0, min(wait, MAX_HOLD_SECONDS)),
            )
        cause = exc.__cause__
        if isinstance(cause, AdapterHTTPError):  # geopy reads a 503 as a timeout: say what it was
            return GeocoderError(f"{self.name} answered HTTP {cause.status_code}")
        if isinstance(exc, GeocoderTimedOut):
            timeout = self.config.timeout_seconds
            return GeocoderError(f"{self.name} did not answer within {timeout:g} s")
        if isinstance(exc, GeocoderUnavailable):
            return GeocoderError(f"{self.name} could not be reached")
        if isinstance(exc, GeocoderParseError):  # its message holds the whole body
            return GeocoderError(f"{self.name} answered what is not JSON")
        if isinstance(exc, GeocoderQueryError):  # Nominatim's {"error": …} with HTTP 200
            return GeocoderError(f"{self.name} answered an error: {wire.said(exc)}")
        return GeocoderError(f"{self.name} failed: {wire.said(exc)}")


# geopy ships no types: its classes are Any to mypy.
class CityLocator(ArcGIS):  # type: ignore[misc]
    """geopy's ArcGIS geocoder pointed at the city's own locator (`…/GeocodeServer`) rather than
    Esri's World one, and asked for candidates in WGS 84 within the city: geopy's `geocode`
    sends neither `outSR` nor `searchExtent`, which a city's locator in state plane feet needs."""

    def __init__(self, locator_url: str, **options: Any) -> None:
        url = urlsplit(locator_url)
        super().__init__(scheme=url.scheme, domain=url.netloc, **options)
        # geopy builds `api` from the domain and the World locator's path; the city's is its own.
        base = locator_url.rstrip("/")
        self.api = f"{base}/findAddressCandidates"
        self.reverse_api = f"{base}/reverseGeocode"

    def candidates(self, query: str, box: BBox | None) -> list[Location] | None:
        """The locator's candidates for `query`, best first; None when it has none."""
        params: dict[str, str] = {
            "SingleLine": query,
            "f": "json",
            "outSR": "4326",
            "maxLocations": str(wire.CANDIDATES),
            "outFields": "Addr_type",
        }
        if box is not None:
            extent = {
                "xmin": box.west,
                "ymin": box.south,
                "xmax": box.east,
                "ymax": box.north,
                "spatialReference": {"wkid": 4326},
            }
            params["searchExtent"] = json.dumps(extent, separators=(",", ":"))
        url = f"{self.api}?{urlencode(params)}"
        found: list[Location] | None = self._call_geocoder(url, self._read)
        return found

    def _read(self, answer: object) -> list[Location] | None:
        wire.arcgis_refusal(answer)  # geopy reads neither the error's words nor the reference
        found: list[Location] | None = self._parse_geocode(answer, exactly_one=False)
        return found


def _adapter(*, proxies: Any, ssl_context: Any) -> RequestsAdapter:
    """geopy's requests adapter, retrying nothing (a retry is an unpaced request, and an outage
    is held off instead) and reading no more than `wire.MAX_BODY` of an answer."""
    adapter = RequestsAdapter(proxies=proxies, ssl_context=ssl_context, max_retries=0)
    adapter.session.hooks["response"].append(_bounded)
    return adapter


def _bounded(response: requests.Response, *args: object, **kwargs: object) -> None:
    """Reads the body, up to `wire.MAX_BODY` bytes: a server streaming without end is not
    answering. A response hook runs before requests reads the body itself; what it read is kept
    where requests keeps it, so geopy's `response.json()` reads the same bytes."""
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > wire.MAX_BODY:
            response.close()
            raise GeocoderError(f"answered more than {wire.MAX_BODY} bytes")
        chunks.append(chunk)
    response._content = b"".join(chunks)


class _Held(GeocoderError):
    """A failure whose server said how long to wait."""

    def __init__(self, message: str, hold_seconds: float) -> None:
        super().__init__(message)
        self.hold_seconds = hold_seconds


def _box(bounds: CityBounds | None) -> BBox | None:
    if bounds is None:
        return None
    west, south, east, north = bounds.area.bounds
    return BBox(west, south, east, north)
