"""A page is written a statement per table (`writer._PageWriter`), yet each mention's decision
sees the mentions before it on the same page exactly as if each had been written at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from socialbot.app import Service, build_service
from socialbot.config import Settings, load_settings
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.ingest import writer
from socialbot.moderation import Account, block
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.poller import poll_once
from socialbot.store.queries import list_cases, outbox_rows
from tests import xapi
from tests.conftest import Clock

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
BOSTON = "-71.191155,42.227926,-70.986078,42.399974"


def service_for(settings: Settings, clock: Clock, *pages: dict[str, Any]) -> Service:
    update = {"x_user_id": xapi.CITY_ID, "city_bounds": BOSTON, "daily_case_limit": 2}
    return build_service(
        settings.model_copy(update=update), ReplayPlatform(xapi.CITY_ID, pages), clock
    )


@pytest.fixture
def one_page(settings: Settings, clock: Clock) -> Iterator[Service]:
    """One page: a report without a location and, after it, the reporter's answer with one;
    three more reports from another resident (over the limit of two); two posts of a resident
    staff blocked by handle."""
    page = xapi.page(
        [
            xapi.tweet(1, "@DemoCity311 #streetlight out", author="2001"),
            xapi.tweet(
                2,
                "@DemoCity311 here it is https://t.co/abc",
                author="2001",
                urls=[("https://t.co/abc", "https://maps.google.com/?q=42.35512,-71.06021")],
                in_reply_to_user_id="2001",
                referenced=[("replied_to", xapi.post_id(1))],
            ),
            xapi.tweet(3, "@DemoCity311 #pothole a", author="2002", coordinates=(42.35, -71.06)),
            xapi.tweet(4, "@DemoCity311 #pothole b", author="2002", coordinates=(42.34, -71.07)),
            xapi.tweet(5, "@DemoCity311 #pothole c", author="2002", coordinates=(42.33, -71.08)),
            xapi.tweet(6, "@DemoCity311 #pothole d", author="2002", coordinates=(42.32, -71.09)),
            xapi.tweet(7, "@DemoCity311 #graffiti", author="2003", coordinates=(42.35, -71.06)),
            xapi.tweet(8, "@DemoCity311 #graffiti", author="2003", coordinates=(42.35, -71.07)),
        ],
        users=[
            xapi.user("2001", "ana"),
            xapi.user("2002", "ben"),
            xapi.user("2003", "spammer"),
        ],
    )
    service = service_for(settings, clock, page)
    block(service.engine, Account("x", "spammer"), by="J. Rivera", reason="spam", now=clock())
    yield service
    service.close()


def test_a_page_sees_its_own_cases_limits_and_blocks(one_page: Service, clock: Clock) -> None:
    report = poll_once(one_page.intake, clock)

    assert [h.decision.outcome for h in report.handled] == [
        MentionOutcome.NEEDS_LOCATION,
        MentionOutcome.FOLLOW_UP,  # the case opened two lines up, found on the same page
        MentionOutcome.CASE_OPENED,
        MentionOutcome.CASE_OPENED,
        MentionOutcome.LIMITED,  # two cases on this page already
        MentionOutcome.LIMITED,
        MentionOutcome.IGNORED,
        MentionOutcome.IGNORED,
    ]
    first = list_cases(one_page.engine)[0]
    assert (first.status, first.lat) == (CaseStatus.NEW, 42.35512)
    replies = [(r.in_reply_to_post_id, r.template) for r in outbox_rows(one_page.engine)]
    assert replies == [
        (xapi.post_id(1), "needs_location"),
        (xapi.post_id(2), "filed"),  # the filed reply owed once the location came
        (xapi.post_id(3), "filed"),
        (xapi.post_id(4), "filed"),
        (xapi.post_id(5), "limit_reached"),  # once, not again for post 6
    ]
    with one_page.engine.connect() as connection:
        blocked_id = connection.execute(text("SELECT user_id FROM blocked_authors")).scalar()
    assert blocked_id == "2003"  # the first post seen filled the account id in


def test_a_page_that_fails_is_done_again_one_mention_at_a_time(
    one_page: Service, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_decide = writer.decide

    def decide_or_break(mention, *args, **kwargs):  # type: ignore[no-untyped-def]
        if mention.post_id == xapi.post_id(3):
            raise ValueError("something nobody foresaw")
        return real_decide(mention, *args, **kwargs)

    monkeypatch.setattr(writer, "decide", decide_or_break)
    report = poll_once(one_page.intake, clock)

    assert report.malformed == 1
    assert [h.decision.outcome for h in report.handled] == [
        MentionOutcome.NEEDS_LOCATION,
        MentionOutcome.FOLLOW_UP,
        MentionOutcome.CASE_OPENED,  # post 4
        MentionOutcome.CASE_OPENED,  # post 5: post 3 opened nothing
        MentionOutcome.LIMITED,
        MentionOutcome.IGNORED,
        MentionOutcome.IGNORED,
    ]
    assert [c.mention_post_id for c in list_cases(one_page.engine)] == [
        xapi.post_id(n) for n in (1, 4, 5)
    ]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("cases", "case_events", "mentions", "outbox", "accounts", "blocked_authors")
    with engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))]
            for table in tables
        }


def run_storm(database: Path, clock: Clock, pages: list[list[dict[str, Any]]]) -> dict[str, Any]:
    settings = load_settings(
        database_url=f"sqlite:///{database}", city_bounds=BOSTON, x_user_id=xapi.CITY_ID
    )
    platform = ReplayPlatform(xapi.CITY_ID)
    service = build_service(settings, platform, clock)
    for burst in pages:
        for page in burst:
            platform.deliver(page)
        poll_once(service.intake, clock)
        with service.engine.begin() as connection:  # the replies went out, as the send job does
            connection.execute(
                text(
                    "UPDATE outbox SET state = 'sent', posted_id = "
                    "CAST(CAST(in_reply_to_post_id AS INTEGER) + :offset AS TEXT) "
                    "WHERE state = 'pending'"
                ),
                {"offset": 50_000_000_000_000_000},
            )
        clock.advance(minutes=1)
    dumped = dump(service.engine)
    service.close()
    return dumped


@pytest.mark.slow  # 3,000 mentions through the pipeline (`-m "not slow"` leaves it out)
def test_writing_a_page_at_once_writes_what_one_mention_at_a_time_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench storm (every kind of mention: threads on the same page and on earlier ones,
    repeats, places, links) through the page writer, then again with every page failing its
    first try, so that it is written one mention at a time: the same rows, to the id."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from _bench_common import MentionsServer, Storm

    server = MentionsServer(Storm.for_size(1_500, started=Clock().now - timedelta(hours=1)))
    pages = [
        [json.loads(body) for body in server.arrive(start, start + 500)]
        for start in range(0, 1_500, 500)
    ]
    at_once, one_by_one = written_both_ways(tmp_path, monkeypatch, pages)

    assert len(at_once["cases"]) > 500 and len(at_once["case_events"]) > len(at_once["cases"])
    assert at_once == one_by_one


def written_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pages: list[list[dict[str, Any]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`pages` through the page writer, then again with every page failing its first try, so
    that it is written one mention at a time: each database's rows (see `run_storm`)."""
    at_once = run_storm(tmp_path / "at_once.db", Clock(), pages)
    real_write = writer._PageWriter.write

    def one_at_a_time(self: writer._PageWriter) -> None:
        if len(self.pending) > 1:
            raise RuntimeError("only one mention at a time")
        real_write(self)

    with monkeypatch.context() as patched:
        patched.setattr(writer._PageWriter, "write", one_at_a_time)
        one_by_one = run_storm(tmp_path / "one_by_one.db", Clock(), pages)
    return at_once, one_by_one
