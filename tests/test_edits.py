"""X serves an edit as a new post whose edit history lists the original: it belongs to the post
it edits. It never opens a second case and never gets a second intake reply; what it adds (a
location, a photo) completes the original's case, as a follow-up in its thread would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.poller import poll_once
from socialbot.store.queries import list_cases, outbox_rows
from tests import xapi
from tests.conftest import Clock

BOSTON = "-71.191155,42.227926,-70.986078,42.399974"


@pytest.fixture
def service(settings: Settings, clock: Clock) -> Iterator[Service]:
    update = {"x_user_id": xapi.CITY_ID, "city_bounds": BOSTON}
    service = build_service(settings.model_copy(update=update), ReplayPlatform(xapi.CITY_ID), clock)
    yield service
    service.close()


def edited(n: int, of: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """Post `n`, an edit of post `of`: X lists both versions on it, oldest first."""
    tweet = xapi.tweet(n, text, **kwargs)
    tweet["edit_history_tweet_ids"] = [xapi.post_id(of), xapi.post_id(n)]
    tweet["conversation_id"] = xapi.post_id(of)
    return tweet


def poll(service: Service, *tweets: dict[str, Any]) -> list[tuple[MentionOutcome, str]]:
    platform = service.intake.platform
    assert isinstance(platform, ReplayPlatform)
    platform.deliver(xapi.page(list(tweets), media=[xapi.photo("3_1")]))
    report = poll_once(service.intake, service.clock)
    return [(h.decision.outcome, h.decision.detail) for h in report.handled]


def test_an_edit_that_adds_the_location_completes_the_case_and_says_nothing(
    service: Service,
) -> None:
    poll(service, xapi.tweet(1, "@DemoCity311 #pothole here"))
    (fate,) = poll(
        service, edited(2, of=1, text="@DemoCity311 #pothole here", coordinates=(42.35, -71.06))
    )

    assert fate == (MentionOutcome.FOLLOW_UP, "edit: case #1: location (exact)")
    (case,) = list_cases(service.engine)
    assert (case.status, case.lat) == (CaseStatus.NEW, 42.35)
    assert [r.in_reply_to_post_id for r in outbox_rows(service.engine)] == [xapi.post_id(1)]


def test_an_edit_of_a_located_report_is_neither_a_duplicate_nor_a_second_case(
    service: Service,
) -> None:
    report = {"coordinates": (42.35, -71.06), "media_keys": ["3_1"]}
    poll(service, xapi.tweet(1, "@DemoCity311 #pothole", **report))
    (fate,) = poll(service, edited(2, of=1, text="@DemoCity311 #pothole (typo fixed)", **report))

    assert fate[0] is MentionOutcome.FOLLOW_UP  # not "already reported as case #1"
    (case,) = list_cases(service.engine)
    assert case.reporter_count == 1
    assert len(case.photo_urls) == 1  # the edit's photo is the post's own, not a second one
    assert len(outbox_rows(service.engine)) == 1


def test_an_edit_on_the_same_page_as_its_original(service: Service) -> None:
    fates = poll(
        service,
        xapi.tweet(1, "@DemoCity311 hello"),
        edited(2, of=1, text="@DemoCity311 hello again"),
    )

    assert fates == [
        (MentionOutcome.UNCLASSIFIED, "no hashtag"),
        (MentionOutcome.IGNORED, "an edit of a post already handled"),
    ]
    assert [r.template for r in outbox_rows(service.engine)] == ["help"]


def test_an_edit_that_makes_a_post_a_report_opens_its_case_quietly(service: Service) -> None:
    """The resident was sent the help reply; their edit adds the hashtag. The case is the
    post's first: it opens, and the resident hears of it when the crew is done."""
    poll(service, xapi.tweet(1, "@DemoCity311 big hole", coordinates=(42.35, -71.06)))
    (fate,) = poll(
        service, edited(2, of=1, text="@DemoCity311 big hole #pothole", coordinates=(42.35, -71.06))
    )

    assert fate == (MentionOutcome.CASE_OPENED, "edit: #pothole")
    assert len(list_cases(service.engine)) == 1
    assert [r.template for r in outbox_rows(service.engine)] == ["help"]


def test_an_edit_of_a_post_never_seen_is_a_post_like_any_other(service: Service) -> None:
    (fate,) = poll(
        service, edited(2, of=1, text="@DemoCity311 #pothole", coordinates=(42.35, -71.06))
    )

    assert fate == (MentionOutcome.CASE_OPENED, "#pothole")
    assert [r.template for r in outbox_rows(service.engine)] == ["filed"]


def test_an_edit_linked_as_a_duplicate_is_still_not_answered(service: Service) -> None:
    """The resident was sent the help reply; their edit adds the hashtag by a neighbour's open
    case: it joins that case as a duplicate, and is not told "already reported"."""
    poll(
        service, xapi.tweet(1, "@DemoCity311 #pothole", author="2002", coordinates=(42.35, -71.06))
    )
    poll(service, xapi.tweet(2, "@DemoCity311 big hole", coordinates=(42.35, -71.06)))
    (fate,) = poll(
        service, edited(3, of=2, text="@DemoCity311 big hole #pothole", coordinates=(42.35, -71.06))
    )

    assert fate[0] is MentionOutcome.DUPLICATE
    assert [r.template for r in outbox_rows(service.engine)] == ["filed", "help"]


def test_an_edit_of_a_duplicate_adds_its_photo_to_the_case_it_joined(service: Service) -> None:
    poll(
        service, xapi.tweet(1, "@DemoCity311 #pothole", author="2002", coordinates=(42.35, -71.06))
    )
    poll(service, xapi.tweet(2, "@DemoCity311 #pothole", coordinates=(42.35, -71.06)))
    (fate,) = poll(
        service,
        edited(
            3, of=2, text="@DemoCity311 #pothole", coordinates=(42.35, -71.06), media_keys=["3_1"]
        ),
    )

    assert fate == (MentionOutcome.FOLLOW_UP, "edit: case #1: 1 photo(s)")
    (case,) = list_cases(service.engine)
    assert case.photo_urls == ["https://pbs.twimg.com/media/3_1.jpg"]
    assert case.reporter_count == 2
    assert [r.template for r in outbox_rows(service.engine)] == ["filed", "already_reported"]
