"""The adapter contract: what every network must do for the one pipeline to work on it.

Each test runs the real poll and send jobs on a real database over one harness (`harness.py`):
the fake network, and each real adapter against its network's API mocked in its wire format.
A new network passes this suite before anything else is built on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.domain import MentionOutcome
from socialbot.errors import PlatformError, Unavailable
from socialbot.ingest.batch import ingest
from socialbot.networks.base import Draft
from socialbot.outbox import send_once
from socialbot.poller import poll_once
from socialbot.store.db import transaction
from socialbot.store.models import Account, MentionRecord, OutboxMessage, OutboxState, RateHold
from tests.conftest import Clock
from tests.networks.harness import HARNESSES, RESET, SKIPPED, Harness

REPORT = "@City #pothole on Boylston St 42.35048, -71.07496"


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, clock: Clock, database_url: str) -> Iterator[Harness]:
    why = SKIPPED.get((request.param, request.node.originalname))
    if why is not None:
        pytest.skip(why)
    made = HARNESSES[request.param](clock, database_url)
    with made.running():
        yield made


@pytest.fixture
def service(settings: Settings, clock: Clock, harness: Harness) -> Iterator[Service]:
    service = build_service(settings, platform=harness.network, clock=clock)
    yield service
    service.close()


def poll(service: Service, harness: Harness) -> list[MentionOutcome]:
    report = poll_once(service.intake, service.clock, user_id=harness.user_id)
    return [h.decision.outcome for h in report.handled]


def cursor(service: Service) -> str | None:
    with transaction(service.engine) as session:
        return session.exec(select(Account.cursor)).one()


def recorded(service: Service) -> list[str]:
    """The post ids of every mention recorded."""
    with transaction(service.engine) as session:
        return list(session.exec(select(MentionRecord.post_id)).all())


def rows(service: Service) -> list[OutboxMessage]:
    with transaction(service.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_a_report_is_filed_and_answered_in_its_thread(service: Service, harness: Harness) -> None:
    post = harness.deliver(1, REPORT)

    assert poll(service, harness) == [MentionOutcome.CASE_OPENED]
    assert send_once(service.outbox, service.clock).sent == 1

    [(text, replied_to)] = harness.posts()
    assert replied_to == post
    assert "#1" in text
    assert harness.network.text_rules.fits(text)


def test_a_reply_names_its_resident_where_the_network_needs_it(
    service: Service, harness: Harness
) -> None:
    harness.deliver(1, REPORT)
    poll(service, harness)
    send_once(service.outbox, service.clock)

    [(text, _)] = harness.posts()
    mention = "@" + harness.handle(1)
    if harness.network.text_rules.mention_author:  # or the resident is never notified
        assert text.startswith(mention + " ")
        assert text.count(mention) == 1
    else:
        assert mention not in text


def test_a_draft_sent_again_after_a_lost_answer_is_one_post(harness: Harness, clock: Clock) -> None:
    draft = Draft(
        key="outbox:7",
        text="Boylston St & Dartmouth St are closed until 6 pm: https://city.example.gov/alerts/7",
    )
    harness.fail_next_post("lost")
    with pytest.raises(Unavailable) as lost:
        harness.network.publish(draft)
    assert lost.value.maybe_done

    found = harness.network.published(harness.user_id, [draft], clock() - timedelta(hours=1))
    [first, *_] = found[draft.key]
    if harness.keeps_keys:  # the network answers the same key with the post it made, and
        # `published` found it as that answer names it: a thread under it replies the same way
        assert harness.network.publish(draft).ref == first
    assert harness.posts() == [(draft.text, None)]


def test_the_cursor_moves_only_with_a_committed_page(
    service: Service, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.deliver(1, REPORT)
    assert poll(service, harness) == [MentionOutcome.CASE_OPENED]
    first = cursor(service)
    assert first is not None

    harness.deliver(2, "@City #graffiti on the library wall 42.35112, -71.06972")

    def crash(*_args: object, **_kw: object) -> None:
        raise RuntimeError("killed while writing the page")

    with monkeypatch.context() as patched:
        patched.setattr("socialbot.poller.ingest", crash)
        with pytest.raises(RuntimeError):
            poll(service, harness)
    assert cursor(service) == first  # the page that was not written is fetched again

    assert poll(service, harness) == [MentionOutcome.CASE_OPENED]
    assert poll(service, harness) == []  # and never twice
    assert cursor(service) != first


BACKLOG = 85  # deeper than a page on every network: the fake's 20, X's 20 here, Mastodon's 80


def test_a_backlog_deeper_than_a_page_is_read_through_each_mention_once(
    service: Service, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.deliver(1, REPORT)
    poll(service, harness)
    first = cursor(service)
    for n in range(2, 2 + BACKLOG):
        harness.deliver(n, f"@City thanks for fixing the light on Elm St, crew {n}!")
    written: list[int] = []

    def crash_on_the_second_page(*args: object, **kw: object) -> object:
        if written:
            raise RuntimeError("killed while writing the second page")
        written.append(1)
        return ingest(*args, **kw)

    with monkeypatch.context() as patched:
        patched.setattr("socialbot.poller.ingest", crash_on_the_second_page)
        with pytest.raises(RuntimeError):
            poll(service, harness)
    between, kept = cursor(service), recorded(service)
    assert between not in (None, first)  # the oldest page committed, and its cursor with it
    assert 1 < len(kept) < 1 + BACKLOG

    assert len(poll(service, harness)) == 1 + BACKLOG - len(kept)  # the rest, and only the rest
    assert poll(service, harness) == []
    everything = recorded(service)
    assert len(everything) == len(set(everything)) == 1 + BACKLOG


def test_a_post_whose_answer_was_lost_is_found_not_posted_again(
    service: Service, harness: Harness, clock: Clock
) -> None:
    harness.deliver(1, REPORT)
    poll(service, harness)
    harness.fail_next_post("lost")

    report = send_once(service.outbox, service.clock)
    assert (report.sent, report.unverified) == (0, 1)
    clock.advance(minutes=5)  # past `recover_after`: no other sender can still be in flight
    report = send_once(service.outbox, service.clock)

    assert report.recovered == 1
    assert len(harness.posts()) == 1
    [row] = rows(service)
    assert row.state is OutboxState.SENT and row.posted_id is not None


def test_a_post_that_failed_is_queued_again_and_sent_once(
    service: Service, harness: Harness, clock: Clock
) -> None:
    harness.deliver(1, REPORT)
    poll(service, harness)
    harness.fail_next_post("down")

    report = send_once(service.outbox, service.clock)
    # Retried later, or (where a 5xx may have posted, as on X) first looked for, then retried.
    assert report.retrying + report.unverified == 1
    assert harness.posts() == []
    clock.advance(minutes=5)
    assert send_once(service.outbox, service.clock).sent == 1
    assert len(harness.posts()) == 1


def test_a_rate_limit_pauses_the_queue_until_its_reset(
    service: Service, harness: Harness, clock: Clock
) -> None:
    harness.deliver(1, REPORT)
    harness.deliver(2, "@City #graffiti on the library wall 42.35112, -71.06972")
    poll(service, harness)
    harness.fail_next_post("limited")

    report = send_once(service.outbox, service.clock)
    assert (report.sent, report.stopped_by) == (0, "RateLimited")
    with transaction(service.engine) as session:
        [hold] = session.exec(select(RateHold)).all()
    assert (hold.platform, hold.account, hold.until) == (harness.network.name, "intake", RESET)
    assert send_once(service.outbox, service.clock).held is not None  # no call before the reset

    clock.now = RESET
    assert send_once(service.outbox, service.clock).sent == 2


def test_the_network_says_how_long_a_post_may_be(harness: Harness) -> None:
    rules = harness.network.text_rules
    assert rules.limit > 0 and rules.network and rules.unit
    # The longest run of "a" that fits: `limit` of them where a unit is a character, more
    # where it is a segment (SMS: 153 to a segment); one more never fits.
    longest = rules.limit
    while rules.fits("a" * (longest + 1)) and longest < 1000 * rules.limit:
        longest += 1
    assert rules.fits("a" * longest) and not rules.fits("a" * (longest + 1))
    assert rules.length("a" * longest) == rules.limit
    assert rules.length("") == 0


def test_a_failed_post_is_one_of_our_errors(harness: Harness) -> None:
    """An adapter raises only socialbot's errors, never its SDK's."""
    harness.fail_next_post("down")
    with pytest.raises(PlatformError):
        harness.network.publish(Draft(key="outbox:1", text="hello"))
