"""Review: a live refresh token of a quiet account stays masked while another account refreshes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import respx

from socialbot import logs
from socialbot.networks.bluesky.adapter import BlueskyCredentials, BlueskyNetwork
from socialbot.networks.sessions import MemorySessions
from tests.conftest import Clock
from tests.networks.bluesky.server import APP_PASSWORD, CITY_DID, CITY_HANDLE, BlueskyServer


@pytest.fixture
def pds(clock: Clock) -> Iterator[BlueskyServer]:
    server = BlueskyServer(reset=datetime(2026, 11, 23, 12, 15, tzinfo=UTC), clock=clock)
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        yield server


@pytest.fixture(autouse=True)
def no_learned_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_learned", ())
    monkeypatch.setattr(logs, "_configured", ())
    monkeypatch.setattr(logs, "_secrets", ())


def adapter(clock: Clock, account: str, store: MemorySessions) -> BlueskyNetwork:
    return BlueskyNetwork(
        BlueskyCredentials(CITY_HANDLE, APP_PASSWORD),
        account=account,
        clock=clock,
        sessions=store,
        secrets=logs.add_secrets,
    )


@pytest.mark.xfail(
    strict=True,
    reason="logs keeps the newest MAX_LEARNED (32) tokens of all accounts: 16 refreshes of the "
    "intake push out the notify account's refresh token, which still lives 90 days",
)
def test_a_quiet_accounts_live_refresh_token_stays_masked(pds: BlueskyServer, clock: Clock) -> None:
    notify_store, intake_store = MemorySessions(), MemorySessions()
    notify = adapter(clock, "notify", notify_store)
    intake = adapter(clock, "intake", intake_store)
    notify.own_user_id()  # a broadcast account: signed in, then quiet for a while
    assert notify_store.session is not None
    refresh = notify_store.session.secret.split(":::")[3]

    for _ in range(logs.MAX_LEARNED // 2):  # a day and a bit of the intake's polls
        clock.advance(hours=1, minutes=50)
        intake.fetch_mentions(CITY_DID, None)

    line = logs.redact(f"event=refresh_refused error='{refresh}'")
    # The token is live: the notify account's next call refreshes with it, spending no sign-in.
    notify.fetch_mentions(CITY_DID, None)
    assert pds.sessions_created == 2 and notify_store.saves == 2  # refreshed, not signed in
    assert line == f"event=refresh_refused error='{logs.MASK}'"
