"""A session Bluesky names with the handle `handle.invalid` (the atproto value for a
handle that no longer verifies, e.g. a city.gov domain handle whose DNS record broke)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import Engine

from socialbot.config import load_settings
from socialbot.doctor import run_checks
from socialbot.networks.bluesky.adapter import BlueskyCredentials, BlueskyNetwork
from socialbot.networks.sessions import MemorySessions
from tests.conftest import Clock
from tests.networks.bluesky.server import APP_PASSWORD, CITY_DID, CITY_HANDLE, BlueskyServer


@pytest.fixture
def pds(clock: Clock) -> Iterator[BlueskyServer]:
    server = BlueskyServer(reset=datetime(2026, 11, 23, 12, 15, tzinfo=UTC), clock=clock)
    made = server._session

    def unverified(refresh_id: str) -> dict[str, Any]:
        return made(refresh_id) | {"handle": "handle.invalid"}

    server._session = unverified  # type: ignore[method-assign]
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        yield server


def test_a_session_named_handle_invalid_is_restored_without_a_sign_in(
    pds: BlueskyServer, clock: Clock
) -> None:
    store = MemorySessions()
    for _ in range(3):  # the service, a `send --once`, a `doctor`: each its own process
        network = BlueskyNetwork(
            BlueskyCredentials(CITY_HANDLE, APP_PASSWORD), clock=clock, sessions=store
        )
        assert network.own_user_id() == CITY_DID
        clock.advance(minutes=11)
    assert pds.sessions_created == 1


def test_doctor_says_the_handle_no_longer_verifies_and_does_not_ask_to_set_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = BlueskyServer(reset=datetime.now(UTC), clock=lambda: datetime.now(UTC))
    answer = server._get_session

    def unverified(request: httpx.Request) -> httpx.Response:
        got = answer(request)
        if got.status_code != 200:
            return got
        return httpx.Response(200, json=json.loads(got.content) | {"handle": "handle.invalid"})

    server._get_session = unverified  # type: ignore[method-assign]
    settings = load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        bluesky_handle=CITY_HANDLE,
        bluesky_app_password=APP_PASSWORD,
    )
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        checks = run_checks(lambda: settings)

    [line] = [c for c in checks if c.area == "credentials"]
    # `SOCIALBOT_BLUESKY_HANDLE=handle.invalid` is no fix: no account has that handle.
    assert "handle.invalid" not in (line.fix or "")
    assert line.failed and "no longer verifies" in line.detail
    assert line.fix is not None and f"_atproto.{CITY_HANDLE}" in line.fix
