"""A 429 is honoured by every command, not only `socialbot run`: the wait is kept in the
database (`socialbot.holds`), and `poll --once`, `send --once` and `status` read it."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import responses
from sqlalchemy import Engine

from socialbot import holds
from socialbot.cli import app
from socialbot.store.db import transaction
from socialbot.store.models import RateHold
from socialbot.usage import MENTIONS
from tests import xapi
from tests.cli.run import invoke, runner


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"SOCIALBOT_X_{name}", f"{name.lower()}-SECRET")
    monkeypatch.setenv("SOCIALBOT_X_USER_ID", xapi.CITY_ID)
    monkeypatch.setenv("SOCIALBOT_BACKFILL_HOURS", str(24 * 365 * 100))  # fixed-date sample posts
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")


def too_many_requests() -> dict[str, object]:
    """X's 429, its window resetting in an hour (as X says it: epoch seconds)."""
    reset = int(time.time()) + 3600
    return {
        "status": 429,
        "json": {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        "headers": {
            "x-rate-limit-limit": "180",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    }


@responses.activate
def test_poll_once_during_a_429_hold_makes_no_call_and_says_until_when() -> None:
    responses.get(xapi.MENTIONS_URL, **too_many_requests())  # type: ignore[arg-type]

    first = runner.invoke(app, ["poll", "--once"])  # X says 429: one line, exit 1, as before
    assert first.exit_code == 1 and len(responses.calls) == 1
    # What waits, why, and until when: not the network's words and a UTC timestamp.
    assert re.fullmatch(
        r"socialbot: X GET /2/users/:id/mentions for account intake is held until "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(X answered 429, at \d\d:\d\d:\d\d UTC\); "
        r"no call is made before then; nothing fetched\n",
        first.stderr,
    ), first.stderr

    code, out = invoke("poll", "--once")
    assert code == 0
    assert len(responses.calls) == 1  # not one more request
    assert "GET /2/users/:id/mentions for account intake is held until" in out
    assert "nothing fetched" in out and len(out.strip().splitlines()) == 1

    code, out = invoke("status", "--json")
    held = json.loads(out)["holds"]
    assert [(h["account"], h["endpoint"]) for h in held] == [
        ("intake", "GET /2/users/:id/mentions")
    ]


@responses.activate
def test_send_once_during_a_429_hold_makes_no_post() -> None:
    page = xapi.page([xapi.tweet(1, "@DemoCity311 #pothole on Main", coordinates=(42.35, -71.06))])
    page2 = xapi.page([xapi.tweet(2, "@DemoCity311 #graffiti on Elm", coordinates=(42.35, -71.06))])
    responses.get(xapi.MENTIONS_URL, json=page)
    responses.get(xapi.MENTIONS_URL, json=page2)
    responses.post(xapi.TWEETS_URL, **too_many_requests())  # type: ignore[arg-type]
    assert invoke("poll", "--once")[0] == 0

    code, out = invoke("send", "--once")
    assert code == 0
    # The queue waits: for what (network, endpoint, account), why, and until when.
    assert re.fullmatch(
        r"intake: sent 0, failed 0, retrying later 1, recovered 0; paused: X POST /2/tweets for "
        r"account intake is held until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(X answered 429, "
        r"at \d\d:\d\d:\d\d UTC\); no call is made before then\n",
        out,
    ), out
    assert "RateLimited" not in out
    assert invoke("poll", "--once")[0] == 0  # a new reply queued after the 429: held too

    code, out = invoke("send", "--once")
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    assert "intake: X POST /2/tweets for account intake is held until" in out


T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# As a bogus `x-rate-limit-reset: 99999999999` reads: a wait until the year 5138.
FOREVER = datetime.fromtimestamp(99999999999, UTC)


def test_a_hold_is_never_longer_than_x_s_longest_window(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="socialbot.holds"):
        holds.hold(engine, "x", "intake", MENTIONS, FOREVER, T0, "X answered 429")
    assert "event=hold_clamped" in caplog.text and "5138" in caplog.text
    found = holds.current(engine, "x", "intake", MENTIONS, T0)
    assert found is not None and found.until == T0 + holds.MAX_HOLD == T0 + timedelta(hours=24)
    later = T0 + timedelta(hours=24, seconds=1)
    assert holds.current(engine, "x", "intake", MENTIONS, later) is None
    assert holds.in_force(engine, later) == []


def test_a_stored_hold_beyond_24_hours_ends_24_hours_after_it_was_set(engine: Engine) -> None:
    with transaction(engine) as session:  # as a version without the bound stored it
        session.add(
            RateHold(platform="x", account="intake", endpoint=MENTIONS, until=FOREVER, set_at=T0)
        )
    found = holds.current(engine, "x", "intake", MENTIONS, T0 + timedelta(hours=1))
    assert found is not None and found.until == T0 + timedelta(hours=24)
    assert [h.until for h in holds.in_force(engine, T0 + timedelta(hours=1))] == [found.until]
    later = T0 + timedelta(hours=25)
    assert holds.current(engine, "x", "intake", MENTIONS, later) is None
    assert holds.in_force(engine, later) == []
    holds.check(engine, "x", "intake", MENTIONS, later)  # intake goes on
    # A new, real hold is not refused as shorter than the stale one.
    holds.hold(
        engine, "x", "intake", MENTIONS, later + timedelta(minutes=15), later, "X answered 429"
    )
    found = holds.current(engine, "x", "intake", MENTIONS, later)
    assert found is not None and found.until == later + timedelta(minutes=15)


@responses.activate
def test_the_hold_is_told_in_the_city_s_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    responses.get(xapi.MENTIONS_URL, **too_many_requests())  # type: ignore[arg-type]
    invoke("poll", "--once")

    code, out = invoke("poll", "--once")

    assert code == 0
    assert re.search(r"held until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T \(", out), out


@responses.activate
def test_send_once_after_a_429_says_until_when_in_the_city_s_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    page = xapi.page([xapi.tweet(1, "@DemoCity311 #pothole on Main", coordinates=(42.35, -71.06))])
    responses.get(xapi.MENTIONS_URL, json=page)
    limited = too_many_requests()
    responses.post(xapi.TWEETS_URL, **limited)  # type: ignore[arg-type]
    assert invoke("poll", "--once")[0] == 0

    code, out = invoke("send", "--once")

    assert code == 0
    reset = datetime.fromtimestamp(int(limited["headers"]["x-rate-limit-reset"]), UTC)  # type: ignore[index]
    local = reset.astimezone(ZoneInfo("America/New_York"))
    assert f"held until {local:%Y-%m-%d %H:%M:%S} {local.tzname()} (X answered 429" in out, out
