"""Every recording of X's live API in ../shared/fixtures/x/ through the real X adapter (served
over mocked HTTP) and the real poll job: what a city would check of each.

The recordings are timelines and searches rather than one city's mentions, so most posts are
strangers' (no hashtag of the catalog: the help reply); what matters is that each post is
recorded once, as what it is, and answered as it deserves: withheld posts and X's placeholders
never, an edit never a second time, and nothing real X sends is "malformed".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from sqlmodel import select

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.domain import MentionOutcome
from socialbot.errors import Unavailable
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.networks.x.wire import parse_mentions_page
from socialbot.poller import PollReport, poll_once
from socialbot.store.db import transaction
from socialbot.store.models import Account, Case, MentionRecord, OutboxMessage
from tests import xapi
from tests.conftest import Clock
from tests.recorded import FIXTURES_DIR, x_lines

RECORDINGS = sorted(p.name for p in (FIXTURES_DIR / "x").glob("*.jsonl"))


@pytest.fixture
def service(settings: Settings, clock: Clock) -> Iterator[Service]:
    service = build_service(
        settings.model_copy(update={"daily_case_limit": 1000}),
        platform=XPlatform(XCredentials("ck", "cs", "at", "ats")),
        clock=clock,
    )
    # Past its first poll: the recordings are years old, and a first poll files only the last
    # day's mentions.
    with transaction(service.engine) as session:
        session.add(Account(platform="x", name="intake", user_id=xapi.CITY_ID, cursor="1"))
    yield service
    service.close()


def as_page(line: str) -> Any:
    """A recorded line as a mentions page: a page as it is; a stream object (one post) as a
    page of one."""
    answer = json.loads(line)
    if isinstance(answer.get("data"), dict):
        answer = {**answer, "data": [answer["data"]]}
    return answer


def poll(service: Service, body: str) -> PollReport:
    with responses.RequestsMock() as mock:
        mock.get(xapi.MENTIONS_URL, body=body)
        return poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)


def records(service: Service) -> dict[str, MentionRecord]:
    with transaction(service.engine) as session:
        return {r.post_id: r for r in session.exec(select(MentionRecord)).all()}


def replied_to(service: Service) -> list[str | None]:
    with transaction(service.engine) as session:
        return list(session.exec(select(OutboxMessage.in_reply_to_post_id)).all())


def posts_in(name: str) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = []
    for line in x_lines(name):
        try:
            posts += as_page(line)["data"]
        except json.JSONDecodeError:
            continue
    return posts


def test_the_recordings_are_all_there() -> None:
    assert len(RECORDINGS) == 13, RECORDINGS
    assert sum(len(posts_in(name)) for name in RECORDINGS) > 300


@pytest.mark.parametrize("name", RECORDINGS)
def test_every_recorded_post_is_recorded_once_as_what_it_is(service: Service, name: str) -> None:
    unreadable = 0
    for line in x_lines(name):
        try:
            body = json.dumps(as_page(line))
        except json.JSONDecodeError:  # a stream cut off mid-object
            with pytest.raises(Unavailable):
                poll(service, line)
            unreadable += 1
            continue
        poll(service, body)

    posts = posts_in(name)
    found = records(service)
    assert {p["id"] for p in posts} == set(found)
    assert not [r for r in found.values() if r.outcome is MentionOutcome.MALFORMED]
    answered = set(replied_to(service))
    for post in posts:
        record = found[post["id"]]
        if "withheld" in post or "account is temporarily unavailable" in post["text"]:
            assert record.outcome is MentionOutcome.IGNORED, post["id"]
            assert post["id"] not in answered
        assert len(replied_to(service)) == len(answered)  # one reply a post at the most
    assert unreadable == (1 if name == "streaming_output_with_error.jsonl" else 0)


def test_withheld_posts_and_placeholders_are_ignored_with_the_reason(service: Service) -> None:
    for name in ("withheld.jsonl", "media_policy_violation_on.jsonl"):
        for line in x_lines(name):
            poll(service, line)

    found = records(service)
    placeholders = [r for r in found.values() if "placeholder" in r.detail]
    withheld = [r for r in found.values() if "withheld by X" in r.detail]
    assert len(placeholders) >= 100  # every "temporarily unavailable" post of the second file
    assert {r.detail for r in withheld} >= {
        "post withheld by X in IN",
        "post withheld by X in DE, FR",
    }
    assert all(r.outcome is MentionOutcome.IGNORED for r in placeholders + withheld)
    answered = set(replied_to(service))
    assert not answered & {r.post_id for r in placeholders + withheld}


def test_an_edit_of_a_post_already_answered_is_not_answered_again(service: Service) -> None:
    (before,) = x_lines("edited_before.jsonl")
    (after,) = x_lines("edited_after.jsonl")

    poll(service, before)
    poll(service, after)

    found = records(service)
    original, edit = "1576994746135764992", "1576994789110992896"
    assert found[original].outcome is MentionOutcome.UNCLASSIFIED  # no hashtag: the help reply
    assert found[edit].outcome is MentionOutcome.IGNORED
    assert found[edit].detail == "an edit of a post already handled"
    assert json.loads(found[edit].raw)["data"]["text"] == "hey :) https://t.co/rnwEIoNuqd"
    assert replied_to(service) == [original]


def test_the_photo_and_the_place_of_a_recorded_post_are_kept(service: Service) -> None:
    for name in ("media_tweet.jsonl", "geo_tweets.jsonl"):
        for line in x_lines(name):
            poll(service, line)

    kept = [json.loads(r.raw)["includes"] for r in records(service).values()]
    assert any(
        inc["media"] and inc["media"][0]["preview_image_url"].startswith("https://pbs.twimg.com/")
        for inc in kept
    )  # a video, with the frame staff see
    assert any(inc["places"] for inc in kept)
    # and read as intake reads them, not only stored
    mentions = [
        m
        for name in ("media_tweet.jsonl", "geo_tweets.jsonl")
        for line in x_lines(name)
        for m in parse_mentions_page(as_page(line)).mentions
    ]
    assert [m.media[0].image_url for m in mentions if m.media] == [
        "https://pbs.twimg.com/ext_tw_video_thumb/1558552952549277696/pu/img/7VaQu-AvReI8RHkv.jpg"
    ]
    assert [(m.place.full_name, m.place.bbox is not None) for m in mentions if m.place] == [
        ("Berlin, Germany", True)
    ]
    assert [m.coordinates.lat for m in mentions if m.coordinates] == [88.01785747]


def test_a_geotag_near_the_pole_is_a_report_like_any_other(service: Service) -> None:
    """geo_tweets.jsonl holds a post at latitude 88 (probably swapped coordinates): with no city
    bounds it is where the resident says, and the duplicate look-up must cope."""
    for line in x_lines("geo_tweets.jsonl"):
        page = as_page(line)
        for post in page["data"]:
            post["text"] += " #pothole"  # make it a report, so the duplicate look-up runs
            post.setdefault("entities", {}).setdefault("hashtags", []).append(
                {"start": 0, "end": 0, "tag": "pothole"}
            )
        poll(service, json.dumps(page))

    with transaction(service.engine) as session:
        cases = session.exec(select(Case)).all()
    assert len(cases) == 2
    assert any(c.lat is not None and c.lat > 80 for c in cases)
