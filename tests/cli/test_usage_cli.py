"""`socialbot usage` and the X part of `socialbot status`, as an operator reads them after a real
poll and send (X mocked in its v2 wire format)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses

from socialbot.metering import DatabaseMeter
from socialbot.store.db import make_engine, upgrade
from socialbot.usage import MENTIONS, ApiCall, Charge
from tests import xapi
from tests.cli.run import invoke


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")
    for name, value in {
        "X_CONSUMER_KEY": "ck-SECRET-1",
        "X_CONSUMER_SECRET": "cs-SECRET-2",
        "X_ACCESS_TOKEN": "at-SECRET-3",
        "X_ACCESS_TOKEN_SECRET": "ats-SECRET-4",
        "X_USER_ID": xapi.CITY_ID,
        "CASE_URL": "https://311.example.gov/cases/{case}",
        "BACKFILL_HOURS": "1000000",  # the sample posts are from the morning of 2026-11-23
    }.items():
        monkeypatch.setenv(f"SOCIALBOT_{name}", value)


def a_morning_of_reports() -> None:
    """Two reports (filed: a reply with the case link each) and one question (help reply)."""
    now = datetime.now(UTC)
    responses.get(
        xapi.MENTIONS_URL,
        json=xapi.page(
            [
                xapi.tweet(1, "@DemoCity311 #pothole", coordinates=(42.3601, -71.0589)),
                xapi.tweet(2, "@DemoCity311 #graffiti", coordinates=(42.35, -71.06)),
                xapi.tweet(3, "@DemoCity311 hello"),
            ]
        ),
        headers={
            "x-rate-limit-limit": "180",
            "x-rate-limit-remaining": "179",
            "x-rate-limit-reset": str(int((now + timedelta(minutes=15)).timestamp())),
        },
    )
    for n in (11, 12, 13):
        responses.post(xapi.TWEETS_URL, json=xapi.posted(xapi.post_id(n), "ok"), status=201)
    assert invoke("poll", "--once")[0] == 0
    assert invoke("send", "--once")[0] == 0


@responses.activate
def test_usage_shows_the_months_calls_and_their_estimated_cost() -> None:
    a_morning_of_reports()

    code, out = invoke("usage")
    assert code == 0
    assert "GET /2/users/:id/mentions" in out and "3 post(s) read" in out
    assert "2 post(s) with a link, 1 post(s)" in out or "1 post(s), 2 post(s) with a link" in out
    # 3 posts read at $0.005, 2 posts with a link at $0.200, 1 post at $0.015.
    assert "total: $0.43 (estimate)" in out

    code, out = invoke("usage", "--json")
    report = json.loads(out)
    assert report["month"] == f"{datetime.now(UTC):%Y-%m}"
    assert report["spend_usd"] == pytest.approx(0.43)
    posts = next(e for e in report["endpoints"] if e["endpoint"] == "POST /2/tweets")
    assert posts["billed"] == {"post_create": 1, "post_create_url": 2}


def test_a_month_that_is_not_yyyy_mm_is_one_line() -> None:
    code, _ = invoke("usage", "--month", "November")
    assert code == 1


@responses.activate
def test_status_shows_each_endpoints_rate_limit_failures_and_the_spend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_morning_of_reports()
    responses.get(xapi.MENTIONS_URL, json={"title": "Unauthorized", "status": 401}, status=401)
    invoke("poll", "--once")  # the token was revoked meanwhile
    monkeypatch.setenv("SOCIALBOT_MONTHLY_BUDGET", "0.40")

    code, out = invoke("status", "--json")
    status = json.loads(out)
    assert code == 0
    mentions = next(e for e in status["endpoints"] if e["endpoint"] == "GET /2/users/:id/mentions")
    assert mentions["rate_remaining"] == 179 and mentions["rate_limit"] == 180
    assert mentions["failures_last_hour"] == 1
    assert mentions["last_error"].startswith("X rejected the credentials (401)")
    assert status["failures_last_hour"] == 1
    assert status["last_send"] is not None and status["last_poll"] is not None
    assert status["spend"] == {
        "month_usd": pytest.approx(0.43),
        "budget_usd": 0.40,
        "holding_non_essential": True,
        "held_replies": 0,
    }

    code, out = invoke("status")
    assert "X failures:   1 in the last hour" in out
    assert "X spend:      $0.43 this month (estimate, `socialbot usage`) of $0.40 budget; " in out
    assert "HOLDING non-essential replies" in out
    assert "179/180, resets in 1" in out  # minutes, rounded down
    assert "SECRET" not in out


def test_on_two_networks_usage_and_status_name_each_ones_account(tmp_path: Path) -> None:
    """Mastodon's calls are counted beside X's, at no cost, each under its network; a city
    that has not polled yet reads `never`, not an empty line."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_engine(url)
    upgrade(engine)
    meter = DatabaseMeter(engine)
    now = datetime.now(UTC)
    meter.record(ApiCall("x", "intake", MENTIONS, now, 200, Charge.POST_READ, 5))
    meter.record(ApiCall("mastodon", "intake", "GET /api/v1/notifications", now, 200, None, 40))
    engine.dispose()

    code, out = invoke("usage")
    assert code == 0
    assert "API usage," in out and "X API usage" not in out
    assert "mastodon/intake" in out and "x/intake" in out
    assert "total: $0.03 (estimate)" in out  # 5 posts read on X; Mastodon bills nothing
    report = json.loads(invoke("usage", "--json")[1])
    assert {e["network"] for e in report["endpoints"]} == {"x", "mastodon"}

    code, out = invoke("status")
    assert code == 0
    assert "last poll:    never" in out
    assert "API failures: 0 in the last hour" in out
