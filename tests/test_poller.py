"""Poll → cases → replies, end to end: the real X adapter over mocked HTTP, a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from sqlmodel import select

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.ingest import writer
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.outbox import send_once
from socialbot.poller import poll_once
from socialbot.store.db import transaction
from socialbot.store.models import Account, MentionRecord
from socialbot.store.queries import list_cases, outbox_rows
from tests import xapi
from tests.conftest import Clock
from tests.made_up import TINY

BOSTON = "-71.191155,42.227926,-70.986078,42.399974"


@pytest.fixture
def service(settings: Settings, clock: Clock) -> Iterator[Service]:
    settings = settings.model_copy(update={"city_bounds": BOSTON})
    service = build_service(
        settings, platform=XPlatform(XCredentials("ck", "cs", "at", "ats")), clock=clock
    )
    yield service
    service.close()


def serve(*pages: dict[str, object]) -> None:
    for payload in pages:
        responses.get(xapi.MENTIONS_URL, json=payload)


def poll(service: Service) -> list[MentionOutcome]:
    report = poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)
    return [h.decision.outcome for h in report.handled]


@responses.activate
def test_a_photo_report_with_exact_geo_opens_a_case_and_queues_the_filed_reply(
    service: Service,
) -> None:
    serve(
        xapi.page(
            [
                xapi.tweet(
                    1,
                    "@DemoCity311 #pothole on Boylston St",
                    author="2001",
                    coordinates=(42.34937, -71.07787),
                    media_keys=["3_1"],
                )
            ],
            media=[xapi.photo("3_1")],
            users=[xapi.user("2001", "maria")],
        )
    )

    assert poll(service) == [MentionOutcome.CASE_OPENED]

    (case,) = list_cases(service.engine)
    assert (case.id, case.category, case.status, case.lat, case.lon, case.location_source) == (
        1,
        "pothole",
        CaseStatus.NEW,
        42.34937,
        -71.07787,
        "exact",
    )
    assert case.photo_urls == ["https://pbs.twimg.com/media/3_1.jpg"]
    assert (case.author_username, case.mention_post_id) == ("maria", xapi.post_id(1))
    (reply,) = outbox_rows(service.engine)
    assert reply.in_reply_to_post_id == xapi.post_id(1)
    assert reply.state.value == "pending"
    assert "case #1" in reply.text and "Pothole" in reply.text
    assert "@" not in reply.text and "Boylston" not in reply.text  # no handles, no quoting
    assert "http" not in reply.text  # no URL unless the city configures one


@responses.activate
def test_the_reply_is_posted_in_the_residents_thread(service: Service) -> None:
    serve(xapi.page([xapi.tweet(1, "@DemoCity311 #pothole", coordinates=(42.35, -71.06))]))
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1859200000000000001", "Thanks!"))

    poll(service)
    assert send_once(service.outbox, service.clock).sent == 1

    body = json.loads(responses.calls[-1].request.body)
    assert body["reply"] == {"in_reply_to_tweet_id": xapi.post_id(1)}
    assert outbox_rows(service.engine)[0].posted_id == "1859200000000000001"


@responses.activate
def test_polling_again_creates_nothing_and_replies_once(service: Service) -> None:
    same = xapi.page([xapi.tweet(1, "@DemoCity311 #pothole", coordinates=(42.35, -71.06))])
    serve(same, same)
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1859200000000000001", "Thanks!"))

    poll(service)
    send_once(service.outbox, service.clock)
    assert poll(service) == []  # X may serve a post again; the unique index makes it a no-op
    send_once(service.outbox, service.clock)

    assert len(list_cases(service.engine)) == 1
    assert [c.request.method for c in responses.calls].count("POST") == 1


@responses.activate
def test_the_cursor_is_the_newest_post_handled(service: Service) -> None:
    serve(
        xapi.page([xapi.tweet(1, "@DemoCity311 #pothole"), xapi.tweet(2, "@DemoCity311 #graffiti")])
    )
    serve(xapi.page([]))

    poll(service)
    poll(service)

    second = parse_qs(urlparse(responses.calls[1].request.url).query)
    assert second["since_id"] == [xapi.post_id(2)]


def two_pages() -> tuple[dict[str, object], dict[str, object]]:
    """Posts 3-4 on the first page X serves, posts 1-2 (older) on the next."""
    newest = xapi.page(
        [xapi.tweet(4, "@DemoCity311 #pothole d"), xapi.tweet(3, "@DemoCity311 #pothole c")],
        next_token="older",
    )
    oldest = xapi.page(
        [xapi.tweet(2, "@DemoCity311 #pothole b"), xapi.tweet(1, "@DemoCity311 #pothole a")]
    )
    return newest, oldest


@responses.activate
def test_pages_are_handled_oldest_first(service: Service) -> None:
    newest, oldest = two_pages()
    serve(newest, oldest)

    poll(service)

    cases = list_cases(service.engine)
    assert [(c.id, c.mention_post_id) for c in cases] == [
        (n, xapi.post_id(n)) for n in (1, 2, 3, 4)
    ]


class Killed(BaseException):
    """Stands for SIGKILL mid-page: no cleanup code runs."""


@responses.activate
def test_a_crash_mid_poll_loses_nothing_and_duplicates_nothing(service: Service) -> None:
    newest, oldest = two_pages()
    serve(newest, oldest)
    real_render = service.replies.render
    rendered: list[int | None] = []

    def render_then_die(message, lang, context, rules, **kwargs):  # type: ignore[no-untyped-def]
        rendered.append(context.case)
        if context.case == 4:  # the second mention of the second page processed
            raise Killed
        return real_render(message, lang, context, rules, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(service.replies, "render", render_then_die)
        with pytest.raises(Killed):
            poll(service)

    # The older page is committed; the half-done newer page left no trace. This was the first
    # poll, whose cursor moves with its newest page only: the next is a first poll again (the
    # backfill window holds), and skips the page already handled.
    assert [c.mention_post_id for c in list_cases(service.engine)] == [
        xapi.post_id(1),
        xapi.post_id(2),
    ]
    with transaction(service.engine) as session:
        assert session.exec(select(Account)).one().cursor is None

    serve(newest, oldest)  # no cursor: X serves both pages again
    assert len(poll(service)) == 2  # posts 3 and 4; 1 and 2 are seen already

    assert [c.mention_post_id for c in list_cases(service.engine)] == [
        xapi.post_id(n) for n in (1, 2, 3, 4)
    ]
    assert len(outbox_rows(service.engine)) == 4
    with transaction(service.engine) as session:
        assert session.exec(select(Account)).one().cursor == xapi.post_id(4)


@responses.activate
def test_dry_run_decides_but_writes_nothing(service: Service) -> None:
    serve(xapi.page([xapi.tweet(1, "@DemoCity311 #pothole", coordinates=(42.35, -71.06))]))

    report = poll_once(service.intake, service.clock, user_id=xapi.CITY_ID, dry_run=True)

    assert [h.decision.outcome for h in report.handled] == [MentionOutcome.CASE_OPENED]
    assert report.handled[0].reply_text is not None
    assert list_cases(service.engine) == [] and outbox_rows(service.engine) == []
    with transaction(service.engine) as session:
        assert session.exec(select(Account)).one().cursor is None


@responses.activate
def test_the_city_account_id_is_looked_up_once_and_remembered(service: Service) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    serve(xapi.page([]), xapi.page([]))

    poll_once(service.intake, service.clock)
    poll_once(service.intake, service.clock)

    assert [urlparse(c.request.url).path for c in responses.calls] == [
        "/2/users/me",
        f"/2/users/{xapi.CITY_ID}/mentions",
        f"/2/users/{xapi.CITY_ID}/mentions",
    ]


@responses.activate
def test_a_malformed_post_is_recorded_and_the_page_goes_on(service: Service) -> None:
    bad = xapi.tweet(1, "@DemoCity311 #pothole")
    bad["created_at"] = "yesterday"
    serve(xapi.page([bad, xapi.tweet(2, "@DemoCity311 #graffiti", coordinates=(42.35, -71.06))]))

    assert poll(service) == [MentionOutcome.CASE_OPENED]

    with transaction(service.engine) as session:
        record = session.exec(
            select(MentionRecord).where(MentionRecord.post_id == xapi.post_id(1))
        ).one()
    assert record.outcome is MentionOutcome.MALFORMED
    assert record.detail == "created_at: not an ISO 8601 time: 'yesterday'"
    assert json.loads(record.raw)["created_at"] == "yesterday"


@responses.activate
def test_every_branch_of_intake_is_recorded_with_its_reply(service: Service) -> None:
    serve(
        xapi.page(
            [
                xapi.tweet(1, "@DemoCity311 #pothole here", coordinates=(42.35, -71.06)),
                xapi.tweet(2, "@DemoCity311 #pothole somewhere"),
                xapi.tweet(3, "@DemoCity311 love the #marathon"),
                xapi.tweet(
                    4, "@DemoCity311 hay un #bache aquí", lang="es", coordinates=(42.32, -71.09)
                ),
                xapi.tweet(
                    5, "@DemoCity311 #pothole in Providence", coordinates=(41.82399, -71.41283)
                ),
                xapi.tweet(
                    6, "RT @DemoCity311: parking ban tonight", referenced=[("retweeted", "1")]
                ),
                xapi.tweet(7, "@DemoCity311 street cleaning Tuesday", author=xapi.CITY_ID),
                xapi.tweet(8, "@DemoCity311 thanks!", in_reply_to_user_id=xapi.CITY_ID),
            ]
        )
    )

    assert poll(service) == [
        MentionOutcome.CASE_OPENED,
        MentionOutcome.NEEDS_LOCATION,
        MentionOutcome.UNCLASSIFIED,
        MentionOutcome.CASE_OPENED,
        MentionOutcome.OUTSIDE_CITY,
        MentionOutcome.IGNORED,
        MentionOutcome.IGNORED,
        MentionOutcome.UNCLASSIFIED,
    ]
    replies = {r.in_reply_to_post_id: (r.template, r.lang) for r in outbox_rows(service.engine)}
    assert replies == {
        xapi.post_id(1): ("filed", "en"),
        xapi.post_id(2): ("needs_location", "en"),
        xapi.post_id(3): ("help", "en"),
        xapi.post_id(4): ("filed", "es"),
        xapi.post_id(5): ("outside_city", "en"),
    }
    statuses = [(c.mention_post_id, c.status) for c in list_cases(service.engine)]
    assert statuses == [
        (xapi.post_id(1), CaseStatus.NEW),
        (xapi.post_id(2), CaseStatus.NEEDS_LOCATION),
        (xapi.post_id(4), CaseStatus.NEW),
    ]


@responses.activate
def test_a_mention_that_cannot_be_handled_is_recorded_and_the_page_goes_on(
    service: Service,
) -> None:
    serve(
        xapi.page(
            [
                xapi.tweet(1, "@DemoCity311 #pothole here", coordinates=(42.35, -71.06)),
                xapi.tweet(2, "@DemoCity311 #graffiti there", coordinates=(42.35, -71.06)),
            ]
        )
    )
    real_decide = writer.decide

    def decide_or_break(mention, *args, **kwargs):  # type: ignore[no-untyped-def]
        if mention.post_id == xapi.post_id(1):
            raise ValueError("something nobody foresaw")
        return real_decide(mention, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writer, "decide", decide_or_break)
        assert poll(service) == [MentionOutcome.CASE_OPENED]

    with transaction(service.engine) as session:
        record = session.exec(
            select(MentionRecord).where(MentionRecord.post_id == xapi.post_id(1))
        ).one()
        account = session.exec(select(Account)).one()
    assert record.outcome is MentionOutcome.MALFORMED
    assert record.detail == "could not be handled: ValueError: something nobody foresaw"
    assert account.cursor == xapi.post_id(2)  # intake moves on
    assert [c.mention_post_id for c in list_cases(service.engine)] == [xapi.post_id(2)]


@responses.activate
def test_a_nul_character_is_dropped_not_fatal(service: Service) -> None:
    text = "@DemoCity311 #pothole\x00 here"
    serve(xapi.page([xapi.tweet(1, text, hashtags=["pothole"], coordinates=(42.35, -71.06))]))
    assert poll(service) == [MentionOutcome.CASE_OPENED]
    assert list_cases(service.engine)[0].description == "@DemoCity311 #pothole here"


@responses.activate
def test_the_first_poll_files_nothing_older_than_the_backfill_window(
    service: Service, clock: Clock
) -> None:
    old = xapi.tweet(1, "@DemoCity311 #pothole from last month", coordinates=(42.35, -71.06))
    old["created_at"] = "2026-10-20T09:00:00.000Z"
    recent = xapi.tweet(2, "@DemoCity311 #graffiti this morning", coordinates=(42.35, -71.06))
    late = xapi.tweet(3, "@DemoCity311 #pothole delayed", coordinates=(42.35, -71.06))
    late["created_at"] = "2026-11-20T09:00:00.000Z"
    serve(xapi.page([old, recent]), xapi.page([late]))

    assert poll(service) == [MentionOutcome.IGNORED, MentionOutcome.CASE_OPENED]
    assert [r.in_reply_to_post_id for r in outbox_rows(service.engine)] == [xapi.post_id(2)]
    # Later polls take everything new, however late X delivers it.
    assert poll(service) == [MentionOutcome.CASE_OPENED]


@responses.activate
def test_on_a_network_whose_replies_name_the_resident_the_reply_starts_with_them(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(
        xapi.page(
            [
                xapi.tweet(1, "@DemoCity311 #pothole on Boylston St", author="2001"),
                xapi.tweet(2, "@DemoCity311 hello", author="2002"),
            ],
            users=[xapi.user("2001", "maria"), xapi.user("2002", "li_backbay")],
        )
    )
    monkeypatch.setattr(service.platform, "text_rules", TINY)  # the network's rules, not X's
    poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)

    replies = {row.in_reply_to_post_id: row.text or "" for row in outbox_rows(service.engine)}
    assert replies[xapi.post_id(1)].startswith("@maria ")
    assert replies[xapi.post_id(2)].startswith("@li_backbay ")
    for text in replies.values():
        assert len(text) <= TINY.limit and text.count("@") == 1
