"""Addresses in words through the real pipeline: each network's real adapter over its API mocked
in its wire format (X, Mastodon, Bluesky, SMS through Twilio), the city's Nominatim mocked with
`responses` in its `/search?format=json` answers, `poll_once` on a real database (SQLite, and
PostgreSQL when configured). The geocoder is built from the settings, as `socialbot run` does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import responses
from sqlmodel import select

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.poller import poll_once
from socialbot.store.db import transaction
from socialbot.store.models import Case
from socialbot.web.public import public_address
from tests.conftest import Clock
from tests.geocoding.answers import nominatim_house
from tests.networks.harness import (
    HARNESSES,
    BlueskyHarness,
    Harness,
    MastodonHarness,
    SmsHarness,
    XHarness,
)
from tests.xapi import ME_URL, MENTIONS_URL, OWN_TWEETS_URL, TWEETS_URL, me

NOMINATIM = "https://nominatim.example.org"
SEARCH = f"{NOMINATIM}/search"
BOUNDS = "-71.19,42.22,-70.98,42.40"
NETWORKS = ["bluesky", "mastodon", "sms", "x"]


@contextmanager
def running(harness: Harness) -> Iterator[responses.RequestsMock]:
    """The harness's API and the geocoder's, in one `responses` mock where the network speaks
    requests too (X, Mastodon, Twilio): two mocks of requests cannot be active at once."""
    if isinstance(harness, BlueskyHarness):  # httpx, under respx: a mock of its own
        with harness.running(), responses.RequestsMock(assert_all_requests_are_fired=False) as m:
            yield m
        return
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if isinstance(harness, XHarness):
            mock.add_callback("GET", MENTIONS_URL, harness._mentions)
            mock.add_callback("POST", TWEETS_URL, harness._post)
            mock.add_callback("GET", OWN_TWEETS_URL, harness._own)
            mock.add_callback("GET", ME_URL, lambda _r: (200, {}, json.dumps(me())))
        else:
            assert isinstance(harness, MastodonHarness | SmsHarness)
            harness.server.serve(mock)
        try:
            yield mock
        finally:
            if isinstance(harness, SmsHarness):
                harness.engine.dispose()


@pytest.fixture(params=NETWORKS)
def harness(request: pytest.FixtureRequest, clock: Clock, database_url: str) -> Harness:
    return HARNESSES[request.param](clock, database_url)


@pytest.fixture
def service(settings: Settings, clock: Clock, harness: Harness) -> Iterator[Service]:
    configured = settings.model_copy(
        update={
            "geocoder": "nominatim",
            "geocoder_url": NOMINATIM,
            "geocoder_user_agent": "socialbot-test (311@example.gov)",
            "geocoder_region": "Boston, MA",
            "geocoder_requests_per_second": 100.0,
            "geocoder_max_per_poll": 3,
            "city_bounds": BOUNDS,
        }
    )
    service = build_service(configured, platform=harness.network, clock=clock)
    yield service
    service.close()


def poll(service: Service, harness: Harness) -> list[MentionOutcome]:
    report = poll_once(service.intake, service.clock, user_id=harness.user_id)
    return [h.decision.outcome for h in report.handled]


def cases(service: Service) -> list[Case]:
    with transaction(service.engine) as session:
        return list(session.exec(select(Case).order_by(Case.id)).all())


def asked(mock: responses.RequestsMock) -> list[str]:
    return [str(c.request.params.get("q")) for c in mock.calls if c.request.url.startswith(SEARCH)]


def test_a_report_with_an_address_is_geocoded_and_keeps_its_words(
    service: Service, harness: Harness
) -> None:
    with running(harness) as mock:
        mock.get(SEARCH, json=[nominatim_house(42.3523, -71.0552)])
        harness.deliver(1, "@City #pothole in front of 123 Main St, Apt 4")
        harness.deliver(2, "@City #pothole 123 Main St again, deep")
        assert poll(service, harness) == [MentionOutcome.CASE_OPENED, MentionOutcome.DUPLICATE]
        assert asked(mock) == ["123 Main St, Boston, MA"]  # once: the second is remembered
    [case] = cases(service)
    assert (case.lat, case.lon, case.location_source) == (42.3523, -71.0552, "address")
    assert case.address == "123 Main St, Apt 4" and case.status is CaseStatus.NEW
    # A text's address stays with staff and the CRM; a public post's may be shown.
    shown = public_address(case.address, case.public)
    assert shown == (None if isinstance(harness, SmsHarness) else "123 Main St, Apt 4")


def test_an_address_the_geocoder_cannot_place_is_filed_by_its_words(
    service: Service, harness: Harness
) -> None:
    with running(harness) as mock:
        mock.get(SEARCH, json=[])
        harness.deliver(1, "@City #pothole Main and 5th")
        assert poll(service, harness) == [MentionOutcome.CASE_OPENED]
    [case] = cases(service)
    assert case.lat is None and case.location_source == "none"
    assert case.address == "Main and 5th" and case.status is CaseStatus.NEW


def test_a_geocoder_outage_never_stops_intake(service: Service, harness: Harness) -> None:
    with running(harness) as mock:
        mock.get(SEARCH, status=503)
        harness.deliver(1, "@City #pothole 12 Elm St")
        harness.deliver(2, "@City #pothole 40 Oak St")
        assert poll(service, harness) == [MentionOutcome.CASE_OPENED] * 2
        assert len(asked(mock)) == 1  # held off after the first failure
    assert [(c.address, c.lat) for c in cases(service)] == [
        ("12 Elm St", None),
        ("40 Oak St", None),
    ]


def test_a_poll_geocodes_at_most_its_limit(service: Service, harness: Harness) -> None:
    with running(harness) as mock:
        # Each house a street apart: four reports, not one problem.
        mock.add_callback(
            "GET",
            SEARCH,
            lambda r: (
                200,
                {},
                json.dumps([nominatim_house(42.30 + len(mock.calls) / 100, -71.06)]),
            ),
        )
        for n, street in enumerate(["Elm", "Oak", "Ash", "Pine"], start=1):
            harness.deliver(n, f"@City #pothole {n} {street} St")
        assert poll(service, harness) == [MentionOutcome.CASE_OPENED] * 4
        assert len(asked(mock)) == 3
    assert [c.lat is not None for c in cases(service)] == [True, True, True, False]
