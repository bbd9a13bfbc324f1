"""Addresses in words geocoded before a page is decided: I/O, so outside `intake.decide` and
outside the page's transaction (no database lock is held while the geocoder is asked).

The poller asks for each page just before its transaction (`PollGeocoding.rules_for`), a push
channel for its batch the same way; intake then finds the points in `IntakeRules.geocoded`.
Only a mention that carries no better location (coordinates, a small place, a map link or typed
coordinates win) and whose words hold an address is looked up (`intake.needs_geocoding`).

A poll asks at most `limit` distinct addresses: at Nominatim's one request a second, each one
adds a second to the poll job, and the replies of the whole page wait for its transaction; a
burst of reports past the cap is filed by its addresses alone (staff and the CRM still read
them), never delayed. The same address asked again is answered from the geocoder's memory, and
counts once. A geocoder that fails (`GeocoderError`) is not asked again in this poll: the rest go
on without points, as with no geocoder at all.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from socialbot.domain import GeoPoint, Mention
from socialbot.errors import GeocoderError
from socialbot.geocoding.base import Geocoder
from socialbot.intake import IntakeRules, Reading, needs_geocoding

log = logging.getLogger(__name__)

# Distinct addresses one poll asks the geocoder at most (`SOCIALBOT_GEOCODER_MAX_PER_POLL`).
DEFAULT_LIMIT = 10


class PollGeocoding:
    """One poll's (or one pushed batch's) use of the geocoder: at most `limit` addresses."""

    def __init__(self, geocoder: Geocoder, limit: int = DEFAULT_LIMIT) -> None:
        self.geocoder, self.limit = geocoder, limit
        self._asked: dict[str, GeoPoint | None] = {}
        self._failed = False
        self.skipped = 0  # addresses left without a point: over the limit, or after a failure

    def rules_for(self, rules: IntakeRules, mentions: Sequence[Mention]) -> IntakeRules:
        """`rules` with the points of `mentions`' addresses (`IntakeRules.geocoded`)."""
        found: dict[str, GeoPoint] = dict(rules.geocoded)
        # In the order the page is decided (oldest first, as `ingest` sorts it): past the limit,
        # the newest go without a point, not the first reports.
        for mention in sorted(mentions, key=lambda m: m.sort_key):
            try:
                address = needs_geocoding(Reading(mention, rules))
            except Exception:  # a mention that cannot be read fails again where that is handled
                continue
            if address is None or address.query in found:
                continue
            point = self._point(address.query)
            if point is not None:
                found[address.query] = point
        if len(found) == len(rules.geocoded):
            return rules
        return dataclasses.replace(rules, geocoded=found)

    def _point(self, query: str) -> GeoPoint | None:
        if query in self._asked:
            return self._asked[query]
        if self._failed or len(self._asked) >= self.limit:
            self.skipped += 1
            return None
        try:
            point = self.geocoder.locate(query)
        except GeocoderError as exc:
            self._failed = True
            self.skipped += 1
            log.warning("event=geocoder_failed geocoder=%r error=%s", self.geocoder.name, exc)
            return None
        self._asked[query] = point
        return point
