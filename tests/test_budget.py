"""SOCIALBOT_MONTHLY_BUDGET: near it, replies not about a filed case wait; case replies and
broadcasts go on."""

from __future__ import annotations

from datetime import timedelta

import responses
from sqlalchemy import Engine

from socialbot.app import build_service
from socialbot.config import load_settings
from socialbot.metering import DatabaseMeter
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.outbox import Outbox, send_once
from socialbot.poller import poll_once
from socialbot.status import read_status
from socialbot.store.db import transaction
from socialbot.store.models import OutboxMessage
from socialbot.store.queries import outbox_rows
from socialbot.usage import CREATE_POST, ApiCall, BudgetState, Charge
from tests import xapi
from tests.city import queued_reply
from tests.conftest import Clock

NEAR = BudgetState(spent=46.0, budget=50.0, reserve_percent=10)  # held from $45
CLEAR = BudgetState(spent=12.0, budget=50.0, reserve_percent=10)


def queue(engine: Engine, clock: Clock, *replies: tuple[int, str]) -> None:
    with transaction(engine) as session:
        for n, template in replies:
            session.add(queued_reply(n, clock(), template))


def outbox(engine: Engine, budget: list[BudgetState]) -> Outbox:
    return Outbox(
        engine=engine,
        platform=XPlatform(XCredentials("ck", "cs", "at", "ats")),
        user_id=lambda: xapi.CITY_ID,
        budget=lambda: budget[0],
    )


def states(engine: Engine) -> dict[str, str]:
    return {r.template: r.state.value for r in outbox_rows(engine)}


@responses.activate
def test_near_the_budget_help_and_status_answers_wait_and_case_replies_go(
    engine: Engine, clock: Clock
) -> None:
    queue(engine, clock, (1, "filed"), (2, "help"), (3, "status"), (4, "resolved"))
    for n in range(4):
        responses.post(xapi.TWEETS_URL, json=xapi.posted(f"80{n}", "ok"))
    budget = [NEAR]

    assert send_once(outbox(engine, budget), clock).sent == 2
    assert states(engine) == {
        "filed": "sent",
        "help": "pending",
        "status": "pending",
        "resolved": "sent",
    }

    budget[0] = CLEAR  # a new month, or a bigger budget
    assert send_once(outbox(engine, budget), clock).sent == 2
    assert set(states(engine).values()) == {"sent"}


def test_a_reply_held_for_a_day_is_dropped_rather_than_sent_late(
    engine: Engine, clock: Clock
) -> None:
    queue(engine, clock, (2, "help"))
    clock.advance(hours=23)
    send_once(outbox(engine, [NEAR]), clock)
    assert states(engine) == {"help": "pending"}

    clock.advance(hours=1)
    report = send_once(outbox(engine, [NEAR]), clock)

    assert report.failed == 1
    [row] = outbox_rows(engine)
    assert row.state.value == "failed"
    assert row.last_error is not None and "SOCIALBOT_MONTHLY_BUDGET" in row.last_error


@responses.activate
def test_the_service_weighs_the_months_spend_as_x_was_billed(
    database_url: str, clock: Clock
) -> None:
    settings = load_settings(
        database_url=database_url,
        x_consumer_key="ck",
        x_consumer_secret="cs",
        x_access_token="at",
        x_access_token_secret="ats",
        x_user_id=xapi.CITY_ID,
        monthly_budget=10.0,
        backfill_hours=1_000_000,
    )
    service = build_service(settings, clock=clock)
    # Most of the month's budget already spent on posts with links: held from $9.00.
    meter = DatabaseMeter(service.engine)
    for _ in range(45):
        meter.record(
            ApiCall(
                "x",
                "intake",
                CREATE_POST,
                clock() - timedelta(days=1),
                201,
                Charge.POST_CREATE_URL,
                1,
            )
        )
    responses.get(
        xapi.MENTIONS_URL,
        json=xapi.page(
            [
                xapi.tweet(1, "@DemoCity311 #pothole", coordinates=(42.3601, -71.0589)),
                xapi.tweet(2, "@DemoCity311 nice account"),
            ]
        ),
    )
    responses.post(xapi.TWEETS_URL, json=xapi.posted("901", "ok"), status=201)

    poll_once(service.intake, clock, user_id=xapi.CITY_ID)
    [report] = [send_once(o, clock) for o in service.outboxes]
    status = read_status(service.engine, clock(), budget=service.budget())
    sent = [r.template for r in outbox_rows(service.engine) if r.state.value == "sent"]
    service.close()

    assert report.sent == 1
    assert sent == ["filed"]
    assert status.budget is not None and status.budget.holding_non_essential
    assert status.held_replies == 1
    # The filed reply was billed too: $9.00 + $0.015 + reads.
    assert status.budget.spent > 9.015


def test_status_counts_as_held_only_the_replies_the_x_budget_holds(
    engine: Engine, clock: Clock
) -> None:
    """The budget is X's: a help answer waiting on Mastodon goes out at the next send, so
    `status` must not count it among the replies the budget holds."""
    queue(engine, clock, (2, "help"))
    with transaction(engine) as session:
        session.add(
            OutboxMessage(
                platform="mastodon",
                account="intake",
                dedupe_key="reply:mastodon:113500000000000002",
                in_reply_to_post_id="113500000000000002",
                template="help",
                lang="en",
                text="@lu@town.example Hi! To report a problem, post a photo.",
                next_attempt_at=clock(),
                created_at=clock(),
            )
        )

    status = read_status(engine, clock(), budget=NEAR)

    assert status.held_replies == 1  # X's help answer; Mastodon's is not held
