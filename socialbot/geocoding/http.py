"""`HttpGeocoder`: Nominatim or the city's ArcGIS locator over `requests`.

One request at a time (a lock: each network's poll job runs in its own thread, and they share
one geocoder), at most `requests_per_second` (Nominatim's public server allows one a second);
each answer remembered, found or not, so that a storm of "Main and 5th" asks once; a point
outside the city bounds is no answer. A failure (a 429, a 5xx, a timeout, an answer we cannot
read) is a `GeocoderError`, and holds the geocoder off for a while (the server's `Retry-After`,
else `HOLD_SECONDS`): an outage then costs the mentions no time, only their points.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import requests

from socialbot.domain import BBox, GeoPoint
from socialbot.errors import GeocoderError
from socialbot.geocoding import wire
from socialbot.geocoding.base import GeocoderConfig, GeocoderKind
from socialbot.location import CityBounds

log = logging.getLogger(__name__)
HOLD_SECONDS = 60.0  # after a failure, no request for this long (unless the server says)
MAX_HOLD_SECONDS = 3600.0  # a Retry-After further off is not believed
_CHUNK = 64 * 1024

Clock = Callable[[], float]


class HttpGeocoder:
    """The `Geocoder` of `config` (Nominatim or ArcGIS), within `bounds` when given."""

    def __init__(
        self,
        config: GeocoderConfig,
        bounds: CityBounds | None,
        *,
        session: requests.Session | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if config.kind is GeocoderKind.NONE:
            raise ValueError("no geocoder is configured")
        self.config = config
        self._bounds = bounds
        self._box = _box(bounds)
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = config.user_agent
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
        self._session.close()

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
        if config.kind is GeocoderKind.NOMINATIM:
            request = wire.nominatim_request(config.url, full, self._box)
        else:
            request = wire.arcgis_request(config.url, full, self._box)
        self.requests += 1
        try:
            response = self._session.get(
                request.url,
                params=list(request.params),
                timeout=config.timeout_seconds,
                stream=True,
            )
        except requests.Timeout:
            raise GeocoderError(
                f"{self.name} did not answer within {config.timeout_seconds:g} s"
            ) from None
        except requests.RequestException as exc:
            kind = type(exc).__name__
            raise GeocoderError(f"{self.name} could not be reached ({kind})") from None
        with response:
            if response.status_code == 429:
                wait = _retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
                raise _Held(f"{self.name} answered 429 (too many requests)", wait)
            if response.status_code >= 400:
                raise GeocoderError(f"{self.name} answered HTTP {response.status_code}")
            body = _read(response, self.name)
        if config.kind is GeocoderKind.NOMINATIM:
            points = wire.nominatim_points(body)
        else:
            points = wire.arcgis_points(body, config.min_score)
        inside = [p for p in points if self._bounds is None or self._bounds.contains(p)]
        return inside[0] if inside else None


class _Held(GeocoderError):
    """A failure whose server said how long to wait."""

    def __init__(self, message: str, hold_seconds: float) -> None:
        super().__init__(message)
        self.hold_seconds = hold_seconds


def _retry_after(value: str | None, now: datetime) -> float:
    """Seconds to wait by a Retry-After header (seconds, or an HTTP date), within reason."""
    if value is None:
        return HOLD_SECONDS
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_HOLD_SECONDS)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return HOLD_SECONDS
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, min((at - now) / timedelta(seconds=1), MAX_HOLD_SECONDS))


def _read(response: requests.Response, name: str) -> bytes:
    """The body, up to `wire.MAX_BODY` bytes: a server streaming without end is not answering."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > wire.MAX_BODY:
                raise GeocoderError(f"{name} answered more than {wire.MAX_BODY} bytes")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise GeocoderError(f"{name}'s answer broke off ({type(exc).__name__})") from None
    return b"".join(chunks)


def _box(bounds: CityBounds | None) -> BBox | None:
    if bounds is None:
        return None
    west, south, east, north = bounds.area.bounds
    return BBox(west, south, east, north)
