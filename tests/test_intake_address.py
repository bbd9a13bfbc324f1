"""An address in words at intake: decided purely from the page's geocoded points
(`IntakeRules.geocoded`), looked up before the page (`ingest.geocode.PollGeocoding`)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.domain import (
    BBox,
    CaseStatus,
    GeoPoint,
    Location,
    LocationSource,
    Mention,
    MentionOutcome,
    Reference,
    ReferenceType,
    Reply,
)
from socialbot.errors import GeocoderError
from socialbot.ingest.geocode import PollGeocoding
from socialbot.intake import IntakeRules, Reading, ThreadCase, decide, needs_geocoding
from socialbot.location import CityBounds

CITY_ID = "city"
BOSTON = CityBounds.from_bbox(BBox(-71.19, 42.22, -70.98, 42.40))
MAIN = GeoPoint(42.3523, -71.0552)


@pytest.fixture(scope="module")
def rules() -> IntakeRules:
    return IntakeRules(catalog=load_catalog(SHIPPED_HASHTAGS), own_user_id=CITY_ID, bounds=BOSTON)


def mention(text: str, n: int = 1, **changes: object) -> Mention:
    made = Mention(
        platform="fake",
        post_id=f"p{n}",
        author_id=f"resident-{n}",
        author_username=f"resident{n}",
        text=text,
        created_at=datetime(2026, 11, 23, 12, n, tzinfo=UTC),
        lang="en",
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def test_a_geocoded_address_locates_the_report(rules: IntakeRules) -> None:
    located = dataclasses.replace(rules, geocoded={"123 Main St": MAIN})
    decision = decide(mention("@city #pothole at 123 Main St, Apt 4"), located)
    assert decision.outcome is MentionOutcome.CASE_OPENED and decision.reply is Reply.FILED
    assert decision.location == Location(MAIN, LocationSource.ADDRESS, "123 Main St, Apt 4")
    assert decision.address == "123 Main St, Apt 4"


def test_an_address_with_no_point_is_filed_by_its_words(rules: IntakeRules) -> None:
    decision = decide(mention("@city #pothole Main and 5th"), rules)
    assert decision.outcome is MentionOutcome.CASE_OPENED and decision.reply is Reply.FILED
    assert decision.location is None and decision.address == "Main and 5th"
    assert decision.detail.endswith("by its address")


def test_no_address_and_no_point_still_waits_for_a_location(rules: IntakeRules) -> None:
    decision = decide(mention("@city #pothole salt and pepper everywhere"), rules)
    assert decision.outcome is MentionOutcome.NEEDS_LOCATION and decision.address is None


def test_a_map_link_beats_the_address_but_the_address_is_kept(rules: IntakeRules) -> None:
    located = dataclasses.replace(rules, geocoded={"123 Main St": GeoPoint(42.30, -71.10)})
    text = "@city #pothole 123 Main St https://www.openstreetmap.org/?mlat=42.35&mlon=-71.06"
    decision = decide(mention(text), located)
    assert decision.location is not None
    assert decision.location.source is LocationSource.MAP_LINK
    assert decision.address == "123 Main St"


def test_a_point_outside_the_city_is_the_outside_reply(rules: IntakeRules) -> None:
    far = dataclasses.replace(rules, geocoded={"123 Main St": GeoPoint(42.1015, -72.5898)})
    decision = decide(mention("@city #pothole 123 Main St"), far)
    assert decision.outcome is MentionOutcome.OUTSIDE_CITY


def test_a_follow_up_with_an_address_completes_a_case_waiting_for_a_location(
    rules: IntakeRules,
) -> None:
    thread = ThreadCase(7, CaseStatus.NEEDS_LOCATION, "resident-1", "pothole", "en")
    reply = mention(
        "@city it's at 40 Elm St",
        2,
        author_id="resident-1",
        in_reply_to_user_id=CITY_ID,
        references=(Reference(ReferenceType.REPLIED_TO, "our-reply"),),
    )
    decision = decide(reply, rules, thread)
    assert decision.outcome is MentionOutcome.FOLLOW_UP and decision.reply is Reply.FILED
    assert decision.address == "40 Elm St" and decision.location is None
    pointed = decide(reply, dataclasses.replace(rules, geocoded={"40 Elm St": MAIN}), thread)
    assert pointed.location == Location(MAIN, LocationSource.ADDRESS, "40 Elm St")
    already = dataclasses.replace(thread, addressed=True)
    assert decide(reply, rules, already).address is None  # the case keeps its first address


def test_a_message_for_staff_keeps_its_address_for_inbox_file(rules: IntakeRules) -> None:
    decision = decide(mention("@city the light at Main St & 5th Ave is out?"), rules)
    assert decision.inbox is not None and decision.address == "Main St & 5th Ave"


def test_only_mentions_with_an_address_and_no_better_location_are_looked_up(
    rules: IntakeRules,
) -> None:
    def looked_up(m: Mention) -> str | None:
        found = needs_geocoding(Reading(m, rules))
        return found.query if found is not None else None

    assert looked_up(mention("#pothole 123 Main St")) == "123 Main St"
    assert looked_up(mention("#pothole Main and 5th")) == "Main & 5th"
    assert looked_up(mention("#pothole 123 Main St", coordinates=MAIN)) is None
    assert looked_up(mention("#pothole 123 Main St 42.35048, -71.07496")) is None
    assert looked_up(mention("#pothole 123 Main St", author_id=CITY_ID)) is None
    retweet = (Reference(ReferenceType.RETWEETED, "x"),)
    assert looked_up(mention("#pothole 123 Main St", references=retweet)) is None
    assert looked_up(mention("#pothole it is bad")) is None


class Geocoder:
    """A geocoder that answers from a table and counts what it was asked."""

    name = "table"

    def __init__(self, points: dict[str, GeoPoint | None], fail: bool = False) -> None:
        self.points, self.fail, self.asked = points, fail, list[str]()

    def locate(self, query: str) -> GeoPoint | None:
        self.asked.append(query)
        if self.fail:
            raise GeocoderError("table is down")
        return self.points.get(query)


def test_a_poll_asks_each_address_once_and_at_most_its_limit(rules: IntakeRules) -> None:
    geocoder = Geocoder({"1 Elm St": MAIN, "2 Oak St": None, "3 Ash St": MAIN})
    poll = PollGeocoding(geocoder, limit=2)
    page = [mention(f"#pothole {t}", n) for n, t in enumerate(["1 Elm St", "1 Elm St", "2 Oak St"])]
    after = poll.rules_for(rules, page)
    assert after.geocoded == {"1 Elm St": MAIN}
    later = poll.rules_for(
        rules, [mention("#pothole 3 Ash St", 9), mention("#pothole 1 Elm St", 8)]
    )
    assert geocoder.asked == ["1 Elm St", "2 Oak St"]  # 3 Ash St is over the poll's limit
    assert later.geocoded == {"1 Elm St": MAIN} and poll.skipped == 1
    assert decide(page[0], after).location == Location(MAIN, LocationSource.ADDRESS, "1 Elm St")


def test_a_failing_geocoder_is_asked_once_a_poll_and_intake_goes_on(rules: IntakeRules) -> None:
    geocoder = Geocoder({}, fail=True)
    poll = PollGeocoding(geocoder)
    page = [mention("#pothole 1 Elm St", 1), mention("#pothole 2 Oak St", 2)]
    after = poll.rules_for(rules, page)
    assert after is rules and geocoder.asked == ["1 Elm St"]
    assert all(decide(m, after).outcome is MentionOutcome.CASE_OPENED for m in page)
