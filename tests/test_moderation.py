"""Abuse and loops: a daily case limit per account, staff's block list, accounts never answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from socialbot import moderation
from socialbot.app import Service, build_service
from socialbot.cli import app
from socialbot.config import Settings
from socialbot.domain import MentionOutcome
from socialbot.errors import SocialbotError
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.networks.x.rules import x_handle
from socialbot.poller import poll_once
from socialbot.store.queries import list_cases, outbox_rows
from tests import xapi
from tests.conftest import Clock

AT = (42.35, -71.06)
SPAMMER = "2666"


@pytest.fixture
def city(settings: Settings, clock: Clock) -> Iterator[tuple[Service, ReplayPlatform]]:
    platform = ReplayPlatform(xapi.CITY_ID)
    update = {
        "x_user_id": xapi.CITY_ID,
        "daily_case_limit": 2,
        "ignore_accounts": "@OtherCityBot, ParksDept",
    }
    service = build_service(settings.model_copy(update=update), platform, clock)
    yield service, platform
    service.close()


def on_x(handle: str) -> moderation.Account:
    return moderation.Account("x", x_handle(handle))


def report(
    platform: ReplayPlatform, n: int, author: str = SPAMMER, username: str = "spam_sam"
) -> None:
    where = (AT[0] + n * 0.001, AT[1])  # a block apart: each its own pothole, not a duplicate
    platform.deliver(
        xapi.page(
            [xapi.tweet(n, f"@DemoCity311 #pothole number {n}", author=author, coordinates=where)],
            users=[xapi.user(author, username)],
        )
    )


def outcomes(service: Service, clock: Clock) -> list[MentionOutcome]:
    return [h.decision.outcome for h in poll_once(service.intake, clock).handled]


def test_over_the_daily_limit_one_polite_reply_then_silence(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    for n in range(1, 5):
        report(platform, n)

    assert outcomes(service, clock) == [
        MentionOutcome.CASE_OPENED,
        MentionOutcome.CASE_OPENED,
        MentionOutcome.LIMITED,
        MentionOutcome.LIMITED,
    ]
    replies = [(r.in_reply_to_post_id, r.template) for r in outbox_rows(service.engine)]
    assert replies == [
        (xapi.post_id(1), "filed"),
        (xapi.post_id(2), "filed"),
        (xapi.post_id(3), "limit_reached"),
    ]

    clock.advance(hours=25)  # a new day
    report(platform, 5)
    assert outcomes(service, clock) == [MentionOutcome.CASE_OPENED]


def test_other_accounts_are_not_limited_by_one_busy_one(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    for n in range(1, 4):
        report(platform, n)
    report(platform, 4, author="2001", username="maria")
    assert outcomes(service, clock)[-1] is MentionOutcome.CASE_OPENED


def test_a_blocked_account_opens_nothing_and_hears_nothing(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    report(platform, 1)
    outcomes(service, clock)
    moderation.block(service.engine, on_x("@Spam_Sam"), by="J. Rivera", reason="spam", now=clock())

    report(platform, 2)
    report(platform, 3, username="renamed_sam")  # a new handle, the same account
    assert outcomes(service, clock) == [MentionOutcome.IGNORED, MentionOutcome.IGNORED]
    assert len(list_cases(service.engine)) == 1 and len(outbox_rows(service.engine)) == 1

    moderation.unblock(service.engine, on_x("spam_sam"))
    report(platform, 4)
    assert outcomes(service, clock) == [MentionOutcome.CASE_OPENED]


def test_listed_accounts_are_never_answered(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    report(platform, 1, author="3001", username="othercitybot")
    report(platform, 2, author="3002", username="PARKSDEPT")
    assert outcomes(service, clock) == [MentionOutcome.IGNORED, MentionOutcome.IGNORED]
    assert outbox_rows(service.engine) == []


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        ("@bad handle", "not an X handle"),
        ("@", "not an X handle"),
        ("@waytoolongforxhandles", "not an X handle"),
    ],
)
def test_only_real_handles_can_be_blocked(
    city: tuple[Service, ReplayPlatform], clock: Clock, handle: str, message: str
) -> None:
    service, _ = city
    with pytest.raises(SocialbotError, match=message):
        moderation.block(service.engine, on_x(handle), by="x", reason="", now=clock())


@pytest.mark.usefixtures("engine")  # the service's database, migrated: block does not migrate
def test_block_commands(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    assert runner.invoke(
        app, ["block", "@Spam_Sam", "--reason", "spam", "--as", "J. Rivera"]
    ).stdout == ("blocked @spam_sam\n")
    again = runner.invoke(app, ["block", "spam_sam"])
    assert (again.exit_code, again.stderr) == (1, "socialbot: @spam_sam is already blocked\n")
    listing = runner.invoke(app, ["blocked"]).stdout
    assert "@spam_sam" in listing and "J. Rivera" in listing and "spam" in listing
    assert runner.invoke(app, ["unblock", "@spam_sam"]).stdout == "unblocked @spam_sam\n"
    gone = runner.invoke(app, ["unblock", "@spam_sam"])
    assert (gone.exit_code, gone.stderr) == (1, "socialbot: @spam_sam is not blocked\n")


def test_a_block_names_one_account_exactly(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    report(platform, 1, author="4001", username="jadoe")  # '_' must not match any character
    report(platform, 2, author="4002", username="j_doe")
    outcomes(service, clock)
    moderation.block(service.engine, on_x("@j_doe"), by="x", reason="", now=clock())

    report(platform, 3, author="4001", username="jadoe")
    report(platform, 4, author="4002", username="j_doe")
    assert outcomes(service, clock) == [MentionOutcome.CASE_OPENED, MentionOutcome.IGNORED]


def test_a_block_follows_the_account_not_a_freed_handle(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    # never seen yet
    moderation.block(service.engine, on_x("@troll"), by="x", reason="", now=clock())
    report(platform, 1, author="5001", username="troll")
    report(platform, 2, author="5001", username="troll_renamed")  # same account, new handle
    report(platform, 3, author="5002", username="troll")  # someone else took the old handle
    assert outcomes(service, clock) == [
        MentionOutcome.IGNORED,
        MentionOutcome.IGNORED,
        MentionOutcome.CASE_OPENED,
    ]
