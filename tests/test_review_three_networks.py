"""Review: a city on X, Mastodon and Bluesky at once, from one service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import respx
from pydantic import SecretStr

from socialbot.app import build_service, network_for
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.network_settings import Channel
from socialbot.networks.mastodon.replay import MastodonReplay
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.scheduler import Jobs
from socialbot.store.queries import list_cases
from tests.conftest import Clock
from tests.networks.bluesky.server import APP_PASSWORD, CITY_HANDLE, BlueskyServer
from tests.test_two_networks import mastodon, x  # noqa: F401


@pytest.fixture
def pds(clock: Clock) -> Iterator[BlueskyServer]:
    server = BlueskyServer(reset=datetime(2026, 11, 23, 12, 15, tzinfo=UTC), clock=clock)
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        yield server


def test_reports_on_three_networks_are_answered_each_on_its_own(
    settings: Settings,
    clock: Clock,
    x: ReplayPlatform,  # noqa: F811
    mastodon: MastodonReplay,  # noqa: F811
    pds: BlueskyServer,
) -> None:
    city = settings.model_copy(
        update={"bluesky_handle": CITY_HANDLE, "bluesky_app_password": SecretStr(APP_PASSWORD)}
    )
    pds.mention(1, "@City #pothole on Boylston St 42.35048, -71.07496")
    bluesky = network_for(city, Channel("bluesky", INTAKE_ACCOUNT), clock=clock)
    service = build_service(
        city,
        clock=clock,
        networks={
            Channel("x", INTAKE_ACCOUNT): x,
            Channel("mastodon", INTAKE_ACCOUNT): mastodon,
            Channel("bluesky", INTAKE_ACCOUNT): bluesky,
        },
    )
    try:
        jobs = Jobs(service)
        jobs.poll()
        jobs.send()
        platforms = sorted({c.platform for c in list_cases(service.engine)})
        assert platforms == ["bluesky", "mastodon", "x"]
        assert len(x.posted) == 1 and len(pds.posted) == 1
        [(_text, replied_to)] = pds.posted
        assert replied_to is not None and replied_to.startswith("did:plc:")
    finally:
        service.close()
