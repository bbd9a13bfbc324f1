"""A city on Bluesky, composed by `app` from its settings alone: the real adapter on the
database's sessions, so a restart or a broadcast command spends no sign-in, and `status` shows
the network. The PDS is the one in memory (tests/networks/bluesky/server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import respx
from typer.testing import CliRunner

from socialbot.app import NETWORKS, build_service, network_for
from socialbot.cli import app as cli
from socialbot.config import Settings, load_settings
from socialbot.network_settings import Channel
from socialbot.networks.bluesky.adapter import BlueskyNetwork
from socialbot.scheduler import Jobs
from socialbot.store.queries import list_cases
from socialbot.store.sessions import DatabaseSessions
from tests.conftest import Clock
from tests.networks.bluesky.server import APP_PASSWORD, CITY_DID, CITY_HANDLE, BlueskyServer

INTAKE = Channel("bluesky", "intake")
REPORT = "@City #pothole on Boylston St 42.35048, -71.07496"


@pytest.fixture
def pds(clock: Clock) -> Iterator[BlueskyServer]:
    server = BlueskyServer(reset=datetime(2026, 11, 23, 12, 15, tzinfo=UTC), clock=clock)
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        yield server


@pytest.fixture
def city(database_url: str) -> Settings:
    return load_settings(
        None,
        database_url=database_url,
        bluesky_handle=CITY_HANDLE,
        bluesky_app_password=APP_PASSWORD,
        accounts={
            # The PDS in memory has one account: the notify account is the city's too.
            "notify": {
                "network": "bluesky",
                "bluesky_handle": CITY_HANDLE,
                "bluesky_app_password": APP_PASSWORD,
            }
        },
    )


def use_the_city_settings(city: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands read `city` from the environment."""
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", city.database_url)
    monkeypatch.setenv("SOCIALBOT_BLUESKY_HANDLE", CITY_HANDLE)
    monkeypatch.setenv("SOCIALBOT_BLUESKY_APP_PASSWORD", APP_PASSWORD)
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__NETWORK", "bluesky")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_HANDLE", CITY_HANDLE)
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_APP_PASSWORD", APP_PASSWORD)


def test_a_city_on_bluesky_is_polled_and_answered_and_a_restart_spends_no_sign_in(
    city: Settings, clock: Clock, pds: BlueskyServer
) -> None:
    pds.mention(1, REPORT)
    service = build_service(city, clock=clock)
    try:
        assert list(service.networks) == [INTAKE, Channel("bluesky", "notify")]
        assert isinstance(service.networks[INTAKE], BlueskyNetwork)
        jobs = Jobs(service)
        jobs.poll()
        jobs.send()
        assert [(c.platform, c.category) for c in list_cases(service.engine)] == [
            ("bluesky", "pothole")
        ]
        assert len(pds.posted) == 1
        assert pds.sessions_created == 1
        saved = DatabaseSessions(service.engine, "bluesky", "intake").load()
        assert saved is not None and saved.user_id == CITY_DID
    finally:
        service.close()

    pds.mention(2, "@City #streetlight out at 42.35100, -71.07000")
    restarted = build_service(city, clock=clock)
    try:
        jobs = Jobs(restarted)
        jobs.poll()
        jobs.send()
        assert len(list_cases(restarted.engine)) == 2 and len(pds.posted) == 2
    finally:
        restarted.close()
    assert pds.sessions_created == 1  # the intake account signed in once, ever


def test_a_broadcast_posted_from_the_command_takes_up_the_services_session(
    city: Settings, clock: Clock, pds: BlueskyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = build_service(city, clock=clock)  # the service: the notify account signs in
    try:
        notify = service.networks[Channel("bluesky", "notify")]
        assert notify.own_user_id() == CITY_DID
    finally:
        service.close()
    assert pds.sessions_created == 1
    use_the_city_settings(city, monkeypatch)

    result = CliRunner().invoke(
        cli,
        ["broadcast", "send", "--text", "Snow emergency: cars off main roads by 8 pm.", "--yes"],
    )

    assert result.exit_code == 0, result.output
    assert [text for text, _ in pds.posted] == ["Snow emergency: cars off main roads by 8 pm."]
    assert pds.sessions_created == 1  # the command took up the saved session


def test_without_a_database_a_network_that_signs_in_keeps_its_session_in_memory(
    city: Settings,
) -> None:
    assert NETWORKS["bluesky"].signs_in and not NETWORKS["x"].signs_in
    network = network_for(city, INTAKE)
    assert isinstance(network, BlueskyNetwork)
    assert network.name == "bluesky"


def test_status_shows_the_bluesky_channel(
    city: Settings, clock: Clock, pds: BlueskyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pds.mention(1, REPORT)
    service = build_service(city, clock=clock)
    try:
        Jobs(service).poll()
    finally:
        service.close()
    use_the_city_settings(city, monkeypatch)

    result = CliRunner().invoke(cli, ["status"])

    assert result.exit_code == 0, result.output
    # A city on Bluesky alone sees Bluesky's endpoints named so, not as X's.
    assert "Bluesky endpoints" in result.output and "X endpoints" not in result.output
    assert "API failures: 0 in the last hour" in result.output
    assert "GET app.bsky.notification.listNotifications" in result.output
    assert APP_PASSWORD not in result.output


def test_usage_counts_bluesky_calls_under_its_name_at_no_cost(
    city: Settings, clock: Clock, pds: BlueskyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pds.mention(1, REPORT)
    service = build_service(city, clock=clock)
    try:
        Jobs(service).poll()
    finally:
        service.close()
    use_the_city_settings(city, monkeypatch)

    result = CliRunner().invoke(cli, ["usage", "--month", "2026-11"])

    assert result.exit_code == 0, result.output
    assert "Bluesky API usage, 2026-11 (the month in UTC)" in result.output
    assert "POST com.atproto.server.createSession" in result.output
    assert "total: $0.00 (estimate)" in result.output
