"""A city on X, Mastodon and Bluesky: one service, composed from its settings alone, takes reports
on all three and sends an alert on all three.

Every network is its real adapter against its API mocked at the HTTP level in its wire format: X
API v2 and Mastodon over `responses` (both speak requests), Bluesky's PDS over `respx` (atproto
speaks httpx). Nothing here names a network to the pipeline: the settings do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import responses
import respx
from sqlmodel import select
from typer.testing import CliRunner

from socialbot.app import build_service
from socialbot.cli import app as cli
from socialbot.config import Settings, load_settings
from socialbot.network_settings import Channel
from socialbot.networks.bluesky import wire as bluesky_wire
from socialbot.scheduler import Jobs
from socialbot.store.db import transaction
from socialbot.store.models import ApiUsage
from socialbot.store.queries import list_cases
from tests import xapi
from tests.conftest import Clock
from tests.networks.bluesky import server as pds_server
from tests.networks.harness import BlueskyHarness, MastodonHarness, XHarness
from tests.networks.mastodon import server as mastodon_server

REPORT = "@City #pothole on Boylston St 42.35048, -71.07496"
ALERT = "Snow emergency: cars off the main roads by 8 pm tonight. #snow"


@dataclass
class City:
    """The three networks' servers, as the residents and the tests see them."""

    x: XHarness
    mastodon: MastodonHarness
    bluesky: BlueskyHarness


@pytest.fixture
def city(clock: Clock) -> Iterator[City]:
    with city_servers(clock) as servers:
        yield servers


@contextmanager
def city_servers(clock: Clock) -> Iterator[City]:
    """The three networks' servers, mocked at the HTTP level, while the block runs."""
    # The harnesses' servers only: the adapters under test are the ones `app` builds.
    x, mastodon, bluesky = XHarness(clock), MastodonHarness(clock), BlueskyHarness(clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as requests_mock:
        requests_mock.add_callback("GET", xapi.MENTIONS_URL, x._mentions)
        requests_mock.add_callback("POST", xapi.TWEETS_URL, x._post)
        requests_mock.add_callback("GET", xapi.OWN_TWEETS_URL, x._own)
        mastodon.server.serve(requests_mock)
        with respx.mock(assert_all_called=False) as router:
            bluesky.server.serve(router)
            yield City(x, mastodon, bluesky)


def settings_of(database_url: str) -> dict[str, object]:
    """A city's settings on all three networks, alerts from the intake accounts."""
    return {
        "database_url": database_url,
        "backfill_hours": 24 * 365,
        "x_consumer_key": "consumer-key-SECRET",
        "x_consumer_secret": "consumer-secret-SECRET",
        "x_access_token": "access-token-SECRET",
        "x_access_token_secret": "access-token-secret-SECRET",
        "x_user_id": xapi.CITY_ID,
        "mastodon_api_base_url": mastodon_server.BASE_URL,
        "mastodon_access_token": "mastodon-token-SECRET",
        "mastodon_user_id": mastodon_server.CITY_ID,
        "bluesky_handle": pds_server.CITY_HANDLE,
        "bluesky_app_password": pds_server.APP_PASSWORD,
        "broadcast_account": "intake",
    }


@pytest.fixture
def three(database_url: str) -> Settings:
    return load_settings(None, **settings_of(database_url))  # type: ignore[arg-type]


def test_one_service_takes_reports_on_x_mastodon_and_bluesky(
    three: Settings, clock: Clock, city: City, caplog: pytest.LogCaptureFixture
) -> None:
    on_x = city.x.deliver(1, REPORT)
    on_mastodon = city.mastodon.deliver(2, "@City #streetlight out on Elm St 42.3121, -71.1140")
    on_bluesky = city.bluesky.deliver(3, "@City #graffiti on the library wall 42.3496, -71.0780")

    service = build_service(three, clock=clock)
    try:
        assert list(service.networks) == [
            Channel("x", "intake"),
            Channel("mastodon", "intake"),
            Channel("bluesky", "intake"),
        ]
        jobs = Jobs(service)
        jobs.poll()
        jobs.send()
        jobs.poll()  # nothing new anywhere: nothing filed or answered twice
        jobs.send()

        cases = {c.platform: c for c in list_cases(service.engine)}
        with transaction(service.engine) as session:
            metered = set(session.exec(select(ApiUsage.platform, ApiUsage.endpoint)).all())
    finally:
        service.close()

    assert {n: (c.category, c.mention_post_id) for n, c in cases.items()} == {
        "x": ("pothole", on_x),
        "mastodon": ("streetlight", on_mastodon),
        "bluesky": ("graffiti", on_bluesky),
    }
    # Each is answered once, in its own thread, on its own network, by that network's rules.
    [(x_text, x_to)] = city.x.posts()
    assert x_to == on_x and "case #" in x_text
    [(m_text, m_to)] = city.mastodon.posts()
    assert m_to == on_mastodon and m_text.startswith(f"@{city.mastodon.handle(2)} ")
    [(b_text, b_to)] = city.bluesky.posts()
    assert b_to == on_bluesky and not b_text.startswith("@")
    [reply] = [r for r in city.bluesky.server.records.values() if r["value"]["text"] == b_text]
    parent = reply["value"]["reply"]["parent"]["uri"]
    assert bluesky_wire.post_id(parent) == on_bluesky
    assert bluesky_wire.did_of(reply["uri"]) == pds_server.CITY_DID
    # Every call was counted as it was made, the Mastodon instance's limits too: asked before
    # the poll's transaction, not inside it, where its meter row waited out SQLite's busy timeout
    # on the lock the transaction holds (20 s) before it could be kept for later.
    assert not [r.message for r in caplog.records if "database is locked" in r.getMessage()]
    assert {
        ("mastodon", "GET /api/v2/instance"),
        ("bluesky", "POST com.atproto.server.createSession"),
        ("x", "GET /2/users/:id/mentions"),
    } <= metered


def test_one_command_sends_an_alert_on_all_three(
    three: Settings, city: City, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    build_service(three).close()  # the service has run: its database is there
    for name, value in settings_of(database_url).items():
        monkeypatch.setenv(f"SOCIALBOT_{name.upper()}", str(value))

    result = CliRunner().invoke(cli, ["broadcast", "send", "--text", ALERT, "--yes"])

    assert result.exit_code == 0, result.output
    assert [text for text, _ in city.x.posts()] == [ALERT]
    assert [text for text, _ in city.mastodon.posts()] == [ALERT]
    assert [text for text, _ in city.bluesky.posts()] == [ALERT]
    # On Bluesky the hashtag is a real one: a tag facet over its UTF-8 bytes.
    [record] = [r["value"] for r in city.bluesky.server.records.values()]
    [facet] = record["facets"]
    index = facet["index"]
    assert ALERT.encode()[index["byteStart"] : index["byteEnd"]] == b"#snow"
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "snow"}]
