"""Forty neighbours, one sewer: reports of an open case's problem are linked to it, not filed anew.
And routing: the district from the city's map, its department overrides, and the SLA due time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from socialbot.app import Service, build_service, build_staff
from socialbot.config import Settings
from socialbot.districts import DEMO_DISTRICTS
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.lifecycle import Action
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import send_once
from socialbot.poller import poll_once
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import Case, MentionRecord
from tests import xapi
from tests.conftest import Clock

LIBRARY = (42.34937, -71.07787)  # Boylston St, Back Bay in the demo districts


def north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return (point[0] + metres / 111_195, point[1])


class City:
    def __init__(self, settings: Settings, clock: Clock, **update: Any) -> None:
        self.platform = ReplayPlatform(xapi.CITY_ID)
        self.clock = clock
        self.service: Service = build_service(
            settings.model_copy(update={"x_user_id": xapi.CITY_ID, **update}),
            self.platform,
            clock,
        )
        self.n = 0

    def report(
        self, text: str, at: tuple[float, float] | None, *, author: str | None = None, **fields: Any
    ) -> None:
        """One resident's post, polled at once."""
        self.n += 1
        who = author or str(3000 + self.n)
        post = xapi.tweet(self.n, text, author=who, coordinates=at, **fields)
        media = [xapi.photo(key) for key in fields.get("media_keys", [])]
        self.platform.deliver(xapi.page([post], media=media))
        poll_once(self.service.intake, self.clock)

    def reports(self, *posts: tuple[str, tuple[float, float]]) -> None:
        """Several posts in one page."""
        items = []
        for post_text, at in posts:
            self.n += 1
            items.append(xapi.tweet(self.n, post_text, author=str(3000 + self.n), coordinates=at))
        self.platform.deliver(xapi.page(list(reversed(items))))
        poll_once(self.service.intake, self.clock)

    def cases(self) -> list[Case]:
        with transaction(self.service.engine) as session:
            return list(session.exec(select(Case).order_by(Case.id)))  # type: ignore[arg-type]

    def outcomes(self) -> list[tuple[str, int | None]]:
        with transaction(self.service.engine) as session:
            rows = session.exec(select(MentionRecord).order_by(MentionRecord.id)).all()  # type: ignore[arg-type]
            return [(r.outcome.value, r.case_id) for r in rows]


@pytest.fixture
def city(settings: Settings, clock: Clock) -> Iterator[City]:
    city = City(settings, clock)
    yield city
    city.service.close()


def test_a_second_report_nearby_is_linked_to_the_open_case(city: City) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY, media_keys=["3_1"])
    city.report("@DemoCity311 #pothole right here too", north(LIBRARY, 30), media_keys=["3_2"])

    (case,) = city.cases()
    assert city.outcomes() == [("case_opened", 1), ("duplicate", 1)]
    assert case.reporter_count == 2
    assert len(case.photo_urls) == 2  # the neighbour's photo helps the crew too
    send_once(city.service.outbox, city.clock)
    assert city.platform.posted[-1].text.startswith("Thanks! This was already reported as case #1")


@pytest.mark.parametrize(
    ("second", "why"),
    [
        (("@DemoCity311 #pothole", north(LIBRARY, 60)), "60 m away: past the 50 m radius"),
        (("@DemoCity311 #graffiti", north(LIBRARY, 5)), "another category"),
    ],
)
def test_farther_or_different_reports_open_their_own_case(
    city: City, second: tuple[str, tuple[float, float]], why: str
) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    city.report(*second)
    assert [c.reporter_count for c in city.cases()] == [1, 1], why


def test_only_open_recent_cases_take_duplicates(city: City, clock: Clock) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    clock.advance(days=31)  # past SOCIALBOT_DUPLICATE_DAYS
    city.report("@DemoCity311 #pothole again", LIBRARY)
    assert len(city.cases()) == 2

    staff = build_staff(city.service.settings)
    staff.act(Request(2, Action.RESOLVE, "ana"), clock())
    staff.engine.dispose()
    city.report("@DemoCity311 #pothole it came back", LIBRARY)  # case #2 is resolved: a new one
    assert len(city.cases()) == 3


@pytest.mark.parametrize(
    "at",
    [
        (88.01785747, 42.77810097),  # the real geotag of geo_tweets.jsonl (lon/lat swapped)
        (90.0, 0.0),
        (-16.5, 179.99999),  # across the antimeridian from its duplicate
    ],
)
def test_a_report_anywhere_on_earth_is_filed_and_its_duplicate_found(
    city: City, at: tuple[float, float]
) -> None:
    # Near the pole the grid used to refuse the point: the report was recorded as malformed.
    city.report("@DemoCity311 #pothole here", at)
    lon = at[1] - 0.00002 if at[1] < 179.9 else -179.99999
    city.report("@DemoCity311 #pothole same one", (at[0], lon))
    assert city.outcomes() == [("case_opened", 1), ("duplicate", 1)]


def test_a_report_without_a_location_is_never_merged(city: City) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    city.report("@DemoCity311 #pothole somewhere", None)
    assert [c.status for c in city.cases()] == [CaseStatus.NEW, CaseStatus.NEEDS_LOCATION]


def test_a_category_may_take_duplicates_from_further_away(city: City) -> None:
    city.report("@DemoCity311 #watermainbreak street flooding", LIBRARY)
    city.report("@DemoCity311 #watermainbreak water everywhere", north(LIBRARY, 120))
    assert city.outcomes() == [("case_opened", 1), ("duplicate", 1)]  # its radius is 150 m


def test_two_reports_in_one_page_are_one_case(city: City) -> None:
    city.reports(
        ("@DemoCity311 #pothole by the library", LIBRARY),
        ("@DemoCity311 #pothole at the library", north(LIBRARY, 10)),
    )
    assert city.outcomes() == [("case_opened", 1), ("duplicate", 1)]


def test_every_reporter_hears_the_case_is_fixed(city: City) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    city.report("@DemoCity311 #bache aquí", north(LIBRARY, 20), lang="es")
    send_once(city.service.outbox, city.clock)
    city.platform.posted.clear()

    staff = build_staff(city.service.settings)
    staff.act(Request(1, Action.RESOLVE, "ana"), city.clock())
    staff.engine.dispose()
    send_once(city.service.outbox, city.clock)

    assert sorted((p.in_reply_to, p.text[:13]) for p in city.platform.posted) == [
        (xapi.post_id(1), "Good news: th"),
        (xapi.post_id(2), "Buenas notici"),
    ]


def test_cases_are_routed_by_district_with_its_department_override(
    settings: Settings, clock: Clock
) -> None:
    city = City(settings, clock, districts=DEMO_DISTRICTS)
    city.report("@DemoCity311 #graffiti on the bridge", LIBRARY)
    city.report("@DemoCity311 #pothole by the library", north(LIBRARY, 200))
    graffiti, pothole = city.cases()
    city.service.close()

    assert (graffiti.district, graffiti.department) == (
        "Back Bay",
        "Back Bay Association – Clean Team",  # the district's override
    )
    assert (pothole.district, pothole.department) == ("Back Bay", "Public Works – Highway")
    assert graffiti.cell is not None and len(graffiti.cell) == 7


def test_a_location_sent_later_routes_the_case(city: City) -> None:
    city.report("@DemoCity311 #pothole somewhere", None)
    city.report(
        "@DemoCity311 it is here",
        LIBRARY,
        in_reply_to_user_id=xapi.CITY_ID,
        referenced=[("replied_to", xapi.post_id(1))],
        author="3001",
    )
    (case,) = city.cases()
    assert case.status is CaseStatus.NEW and case.cell is not None


def test_the_due_time_skips_the_weekend_and_the_holiday(settings: Settings) -> None:
    # Wednesday 25 November 2026, 10:00 in Boston; 3 business days skip Thanksgiving (Thu 26)
    # and the weekend: received Wed, due by the end of Tue 1 Dec.
    clock = Clock(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    city = City(settings, clock, timezone="America/New_York", backfill_hours=24 * 365)
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    (case,) = city.cases()
    city.service.close()
    assert case.due_at == datetime(2026, 12, 2, 4, 59, 59, tzinfo=UTC)  # 23:59:59 EST on Tue 1


def test_outcomes_are_recorded_for_the_audit(city: City) -> None:
    city.report("@DemoCity311 #pothole by the library", LIBRARY)
    city.report("@DemoCity311 #pothole", north(LIBRARY, 10))
    with transaction(city.service.engine) as session:
        linked = session.exec(
            select(MentionRecord).where(MentionRecord.outcome == MentionOutcome.DUPLICATE)
        ).one()
    assert linked.detail == "#pothole; same problem as case #1, 10 m away"
    assert timedelta(0) <= city.clock() - linked.received_at
