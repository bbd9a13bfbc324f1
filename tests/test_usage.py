"""What X is asked and billed: every call counted by endpoint as the adapter makes it, priced with
the settings' prices, shown by `socialbot usage` and `status`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from sqlalchemy import Engine

from socialbot.errors import RateLimited, Unavailable
from socialbot.metering import DatabaseMeter, budget_state, read_endpoints, read_usage
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.usage import (
    CREATE_POST,
    MENTIONS,
    USERS_ME,
    ApiCall,
    BudgetState,
    Charge,
    Prices,
    month_days,
    price_usage,
)
from tests import xapi
from tests.conftest import Clock

SECRETS = XCredentials("ck-SECRET-1", "cs-SECRET-2", "at-SECRET-3", "ats-SECRET-4")


def limits(remaining: int, limit: int, reset: datetime) -> dict[str, str]:
    """The rate-limit headers X sends with every answer."""
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(reset.timestamp())),
    }


@pytest.fixture
def metered(engine: Engine, clock: Clock) -> XPlatform:
    return XPlatform(SECRETS, account="intake", meter=DatabaseMeter(engine), clock=clock)


@responses.activate
def test_a_mentions_page_is_billed_per_post_read_and_a_post_per_request(
    metered: XPlatform, engine: Engine, clock: Clock
) -> None:
    reset = clock() + timedelta(minutes=15)
    responses.get(
        xapi.MENTIONS_URL,
        json=xapi.page([xapi.tweet(n, f"@DemoCity311 #pothole {n}") for n in (1, 2, 3)]),
        headers=limits(179, 180, reset),
    )
    responses.post(xapi.TWEETS_URL, json=xapi.posted(xapi.post_id(10), "Filed"), status=201)
    responses.post(xapi.TWEETS_URL, json=xapi.posted(xapi.post_id(11), "Filed"), status=201)

    metered.fetch_mentions(xapi.CITY_ID, cursor=None)
    metered.post("Filed as case #1. Thank you!", in_reply_to=xapi.post_id(1))
    metered.post("Filed as case #2: https://311.example.gov/cases/2", xapi.post_id(2))

    usage = {u.endpoint: u for u in read_usage(engine, "2026-11", Prices())}
    assert usage[MENTIONS].calls == 1
    assert usage[MENTIONS].units == {Charge.POST_READ: 3}
    assert usage[MENTIONS].spend == pytest.approx(3 * 0.005)
    assert usage[CREATE_POST].calls == 2
    # X bills a post with a link in it at its own rate.
    assert usage[CREATE_POST].units == {Charge.POST_CREATE: 1, Charge.POST_CREATE_URL: 1}
    assert usage[CREATE_POST].spend == pytest.approx(0.015 + 0.200)
    mentions = next(e for e in read_endpoints(engine, clock()) if e.endpoint == MENTIONS)
    assert (mentions.rate_remaining, mentions.rate_limit, mentions.rate_reset_at) == (
        179,
        180,
        reset.replace(microsecond=0),
    )
    assert mentions.last_ok_at == clock()


@responses.activate
def test_failed_calls_bill_nothing_and_show_as_failures_of_the_last_hour(
    metered: XPlatform, engine: Engine, clock: Clock
) -> None:
    reset = clock() + timedelta(minutes=9)
    responses.get(xapi.MENTIONS_URL, json={"title": "Service Unavailable"}, status=503)
    responses.post(
        xapi.TWEETS_URL,
        json={"title": "Too Many Requests", "status": 429},
        status=429,
        headers=limits(0, 100, reset),
    )
    responses.get(xapi.ME_URL, body=requests.ConnectionError("connection refused"))

    with pytest.raises(Unavailable):
        metered.fetch_mentions(xapi.CITY_ID, cursor=None)
    clock.advance(minutes=30)
    with pytest.raises(RateLimited):
        metered.post("Filed as case #1", in_reply_to=xapi.post_id(1))
    with pytest.raises(Unavailable):
        metered.own_user_id()

    usage = read_usage(engine, "2026-11", Prices())
    assert {(u.endpoint, u.calls, u.errors, u.spend) for u in usage} == {
        (MENTIONS, 1, 1, 0.0),
        (CREATE_POST, 1, 1, 0.0),
        (USERS_ME, 1, 1, 0.0),
    }
    clock.advance(minutes=31)  # the 503 is now more than an hour old
    endpoints = {e.endpoint: e for e in read_endpoints(engine, clock())}
    assert endpoints[MENTIONS].failures_last_hour == 0
    assert endpoints[MENTIONS].last_error == "X server error (503): 503 Service Unavailable"
    assert endpoints[CREATE_POST].failures_last_hour == 1
    assert endpoints[CREATE_POST].last_error is not None
    assert endpoints[CREATE_POST].last_error.startswith("X rate limit reached")
    assert endpoints[USERS_ME].last_error == "X unreachable: ConnectionError"
    assert endpoints[USERS_ME].last_ok_at is None


def test_a_rate_limit_whose_window_has_reset_is_not_shown_as_spent(
    engine: Engine, clock: Clock
) -> None:
    from socialbot.domain import RateBudget

    meter = DatabaseMeter(engine)
    meter.record(
        ApiCall(
            "x",
            "intake",
            CREATE_POST,
            clock(),
            201,
            Charge.POST_CREATE,
            1,
            RateBudget(0, clock() + timedelta(minutes=5), 100),
        )
    )
    assert read_endpoints(engine, clock())[0].rate_remaining == 0
    assert read_endpoints(engine, clock() + timedelta(minutes=6))[0].rate_remaining is None


def test_counts_add_up_per_day_and_the_month_is_a_utc_calendar_month(
    engine: Engine,
) -> None:
    meter = DatabaseMeter(engine)
    for at in (
        datetime(2026, 10, 31, 23, 59, tzinfo=UTC),  # October
        datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC),  # December
    ):
        meter.record(ApiCall("x", "notify", CREATE_POST, at, 201, Charge.POST_CREATE, 1))

    [november] = read_usage(engine, "2026-11", Prices(post_create=0.5))
    assert (november.account, november.calls, november.spend) == ("notify", 2, 1.0)
    assert read_usage(engine, "2027-01", Prices()) == []


def test_a_meter_that_cannot_write_logs_and_lets_the_call_go_on(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    from socialbot.store.db import make_engine

    unmigrated = make_engine(f"sqlite:///{tmp_path}/empty.db")  # no tables
    DatabaseMeter(unmigrated).record(
        ApiCall(
            "x", "intake", MENTIONS, datetime(2026, 11, 23, tzinfo=UTC), 200, Charge.POST_READ, 1
        )
    )
    unmigrated.dispose()
    assert "event=meter_failed" in caplog.text


def test_prices_are_per_unit_and_the_budget_holds_from_its_reserve() -> None:
    rows = [
        ("x", "intake", MENTIONS, Charge.POST_READ, 10, 1, 800),
        ("x", "intake", MENTIONS, None, 1, 1, 0),
        ("x", "notify", CREATE_POST, Charge.POST_CREATE_URL, 3, 0, 3),
    ]
    mentions, posts = price_usage(rows, Prices())
    assert (mentions.calls, mentions.errors, mentions.spend) == (11, 2, pytest.approx(4.0))
    assert posts.spend == pytest.approx(0.6)

    assert BudgetState(spent=44.99, budget=50, reserve_percent=10).holding_non_essential is False
    assert BudgetState(spent=45.00, budget=50, reserve_percent=10).holding_non_essential is True
    assert BudgetState(spent=1e9, budget=None, reserve_percent=10).holding_non_essential is False


def test_budget_state_reads_the_month_spend(engine: Engine, clock: Clock) -> None:
    DatabaseMeter(engine).record(
        ApiCall("x", "intake", CREATE_POST, clock(), 201, Charge.POST_CREATE_URL, 1)
    )
    state = budget_state(engine, "2026-11", Prices(), budget=0.25, reserve_percent=10)
    assert state.spent == pytest.approx(0.2)
    assert state.holding_non_essential is False  # held from 0.225
    assert budget_state(engine, "2026-11", Prices(), 0.2, 10).holding_non_essential is True


def test_a_month_is_named_yyyy_mm() -> None:
    assert month_days("2026-12") == (
        datetime(2026, 12, 1).date(),
        datetime(2027, 1, 1).date(),
    )
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        month_days("Nov 2026")
