"""Review: a session Bluesky names with the handle `handle.invalid` (the atproto value for a
handle that no longer verifies, e.g. a city.gov domain handle whose DNS record broke)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import respx

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
