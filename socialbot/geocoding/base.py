"""What intake asks of a geocoder, and what the settings say it is."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from socialbot.domain import GeoPoint


class GeocoderKind(enum.StrEnum):
    NONE = "none"
    NOMINATIM = "nominatim"
    ARCGIS = "arcgis"


class Geocoder(Protocol):
    """The city's geocoder: an address in words (without the city's name) → its point."""

    @property
    def name(self) -> str:
        """What it is, for logs and `doctor` ("nominatim at https://…")."""
        ...

    def locate(self, query: str) -> GeoPoint | None:
        """The point of `query` within the city, or None when the service knows none there.
        A `GeocoderError` when it gave no usable answer (intake then goes on without one)."""
        ...


# The public Nominatim server; its usage policy: an identifying User-Agent, one request a second
# at most, results cached (https://operations.osmfoundation.org/policies/nominatim/).
PUBLIC_NOMINATIM = "https://nominatim.openstreetmap.org"


@dataclass(frozen=True, slots=True)
class GeocoderConfig:
    """The geocoder's settings (`SOCIALBOT_GEOCODER_*`), checked by `app.make_geocoder`."""

    kind: GeocoderKind
    url: str  # Nominatim's base URL, or the ArcGIS locator's `…/GeocodeServer`
    user_agent: str
    timeout_seconds: float = 5.0
    region: str | None = None  # "Boston, MA": added to every query
    requests_per_second: float = 1.0
    remembered: int = 4096  # answers kept (found or not), least recently asked dropped first
    min_score: float = 80.0  # ArcGIS: a candidate scored lower is no match
