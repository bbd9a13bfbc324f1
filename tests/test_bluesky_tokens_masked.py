"""A live refresh token of a quiet account stays masked while another account refreshes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command

from socialbot import logs
from socialbot.app import network_for
from socialbot.config import Settings
from socialbot.network_settings import Channel
from socialbot.store.db import alembic_config, make_engine
from socialbot.store.sessions import DatabaseSessions
from tests.conftest import Clock
from tests.networks.bluesky.server import CITY_DID, BlueskyServer
from tests.test_app_bluesky import city, pds  # noqa: F401


@pytest.fixture(autouse=True)
def no_learned_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(logs, "_learned", ())
    monkeypatch.setattr(logs, "_held", {})
    monkeypatch.setattr(logs, "_configured", ())
    monkeypatch.setattr(logs, "_secrets", ())
    yield


def test_a_quiet_accounts_live_refresh_token_stays_masked(
    city: Settings,  # noqa: F811
    pds: BlueskyServer,  # noqa: F811
    clock: Clock,
) -> None:
    engine = make_engine(city.database_url)
    command.upgrade(alembic_config(engine), "head")
    notify = network_for(city, Channel("bluesky", "notify"), clock=clock, engine=engine)
    intake = network_for(city, Channel("bluesky", "intake"), clock=clock, engine=engine)
    notify.own_user_id()  # a broadcast account: signed in, then quiet for a while
    saved = DatabaseSessions(engine, "bluesky", "notify").load()
    assert saved is not None
    refresh = saved.secret.split(":::")[3]

    for _ in range(logs.MAX_LEARNED // 2):  # a day and a bit of the intake's polls
        clock.advance(hours=1, minutes=50)
        intake.fetch_mentions(CITY_DID, None)

    line = logs.redact(f"event=refresh_refused error='{refresh}'")
    # The token is live: the notify account's next call refreshes with it, spending no sign-in.
    notify.fetch_mentions(CITY_DID, None)
    after = DatabaseSessions(engine, "bluesky", "notify").load()
    assert pds.sessions_created == 2 and after is not None and after.secret != saved.secret
    assert line == f"event=refresh_refused error='{logs.MASK}'"
    engine.dispose()
