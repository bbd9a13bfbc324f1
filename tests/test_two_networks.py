"""A city on X and on Mastodon: one pipeline, two networks, each answered on its own.

Both networks are served in their real wire format (X API v2 pages, Mastodon notification
pages), parsed by their own adapters' wire code; cases, the outbox and the jobs are shared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from socialbot.app import Service, build_service
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.errors import RateLimited, Unavailable
from socialbot.lifecycle import Action
from socialbot.network_settings import Channel
from socialbot.networks.mastodon.replay import MastodonReplay
from socialbot.networks.mastodon.wire import read_reply_context
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import send_once
from socialbot.scheduler import Jobs, build_scheduler
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import Account, OutboxMessage, RateHold
from socialbot.store.queries import list_cases
from tests import xapi
from tests.conftest import Clock

SAMPLE = Path(__file__).resolve().parents[1] / "socialbot" / "demo" / "mastodon.json"
MASTODON_CITY = "113400000000000001"


@pytest.fixture
def x() -> ReplayPlatform:
    return ReplayPlatform(
        xapi.CITY_ID,
        [xapi.page([xapi.tweet(1, "@DemoCity311 #pothole on Boylston St 42.34937, -71.07787")])],
    )


@pytest.fixture
def mastodon() -> MastodonReplay:
    return MastodonReplay(MASTODON_CITY, json.loads(SAMPLE.read_text(encoding="utf-8")))


@pytest.fixture
def service(
    settings: Settings, clock: Clock, x: ReplayPlatform, mastodon: MastodonReplay
) -> Iterator[Service]:
    service = build_service(
        settings,
        clock=clock,
        networks={Channel("x", INTAKE_ACCOUNT): x, Channel("mastodon", INTAKE_ACCOUNT): mastodon},
    )
    yield service
    service.close()


def test_reports_on_both_networks_become_cases_answered_each_on_its_own(
    service: Service, x: ReplayPlatform, mastodon: MastodonReplay
) -> None:
    jobs = Jobs(service)
    jobs.poll()
    jobs.send()

    cases = list_cases(service.engine)
    assert sorted((c.platform, c.category) for c in cases) == [
        ("mastodon", "downed_tree"),
        ("mastodon", "sidewalk"),
        ("mastodon", "streetlight"),
        ("x", "pothole"),
    ]
    # X's reply is threaded under the X post, and goes out on X only.
    [on_x] = x.posted
    assert on_x.in_reply_to == xapi.post_id(1)
    # Each Mastodon reply answers its status, names its resident (or Mastodon would not tell
    # them), is never wider than the status, and keeps its content warning.
    by_status = {p.in_reply_to: p for p in mastodon.posted}
    assert set(by_status) == {
        "113500000000000011",
        "113500000000000012",
        "113500000000000013",
        "113500000000000014",
    }
    assert by_status["113500000000000011"].text.startswith("@ana@mastodon.social ")
    assert by_status["113500000000000014"].text.startswith("@lu@mastodon.social ")
    direct = read_reply_context(by_status["113500000000000012"].context)
    assert direct.visibility == "direct"
    warned = read_reply_context(by_status["113500000000000013"].context)
    assert (warned.visibility, warned.spoiler_text) == ("unlisted", "road hazard")
    assert all(mastodon.text_rules.fits(p.text) for p in mastodon.posted)


def test_each_network_keeps_its_own_cursor(service: Service, mastodon: MastodonReplay) -> None:
    Jobs(service).poll()
    with transaction(service.engine) as session:
        cursors = {a.platform: a.cursor for a in session.exec(select(Account)).all()}
    assert cursors == {"x": xapi.post_id(1), "mastodon": "204"}

    Jobs(service).poll()  # nothing new on either: nothing filed twice
    assert len(list_cases(service.engine)) == 4


def test_an_outage_on_one_network_holds_neither_the_other_nor_its_queue(
    service: Service, x: ReplayPlatform, mastodon: MastodonReplay, clock: Clock
) -> None:
    def down(*_args: object) -> None:
        raise Unavailable("Mastodon answered 503")

    mastodon.fetch_mentions = down  # type: ignore[method-assign]
    jobs = Jobs(service)
    jobs.poll()
    assert [c.platform for c in list_cases(service.engine)] == ["x"]  # X was polled all the same

    def limited(*_args: object, **_kw: object) -> None:
        raise RateLimited("429", clock() + timedelta(minutes=5))

    x.post = limited  # type: ignore[method-assign, assignment]
    del mastodon.fetch_mentions
    jobs.polls["mastodon"].not_before = None
    jobs.poll()
    jobs.send()
    assert len(mastodon.posted) == 4  # Mastodon's replies went out while X's queue waits
    with transaction(service.engine) as session:
        [hold] = session.exec(select(RateHold)).all()
        pending = session.exec(
            select(OutboxMessage.platform).where(OutboxMessage.state == "pending")
        ).all()
    assert (hold.platform, hold.account) == ("x", "intake")
    assert list(pending) == ["x"]


def test_two_intake_accounts_never_send_each_others_rows(
    service: Service, x: ReplayPlatform, mastodon: MastodonReplay
) -> None:
    Jobs(service).poll()
    report = send_once(service.outbox_for(INTAKE_ACCOUNT, "x"), service.clock)

    assert report.sent == 1
    assert len(x.posted) == 1 and mastodon.posted == []


def test_a_neighbour_on_the_other_network_hears_the_news_there(
    settings: Settings, clock: Clock, mastodon: MastodonReplay
) -> None:
    """The broken sidewalk reported on X first, then on Mastodon: one case, and when it is fixed
    each reporter is told in their own thread on their own network."""
    x = ReplayPlatform(
        xapi.CITY_ID,
        [
            xapi.page(
                [xapi.tweet(1, "@DemoCity311 #sidewalk broken on Meridian St 42.37021, -71.03891")]
            )
        ],
    )
    service = build_service(
        settings,
        clock=clock,
        networks={Channel("x", INTAKE_ACCOUNT): x, Channel("mastodon", INTAKE_ACCOUNT): mastodon},
    )
    try:
        Jobs(service).poll()
        [case] = [c for c in list_cases(service.engine) if c.category == "sidewalk"]
        assert (case.platform, case.reporter_count) == ("x", 2)  # Ana's report linked to it
        staff = service.staff
        assert case.id is not None
        staff.act(Request(case.id, Action.RESOLVE, "crew"), clock())
        with transaction(service.engine) as session:
            told = session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "resolved")
            ).all()
        by_network = {row.platform: row for row in told}
        assert by_network["x"].in_reply_to_post_id == xapi.post_id(1)
        to_ana = by_network["mastodon"]
        assert to_ana.in_reply_to_post_id == "113500000000000011"
        assert to_ana.text.startswith("@ana@mastodon.social ")
        assert read_reply_context(to_ana.reply_context).visibility == "public"
        Jobs(service).send()
        assert to_ana.text in [p.text for p in mastodon.posted]
        assert by_network["x"].text in [p.text for p in x.posted]
    finally:
        service.close()


def test_the_service_runs_a_poll_and_a_send_job_per_network(service: Service) -> None:
    scheduler = build_scheduler(service)
    sqlite = service.engine.dialect.name == "sqlite"  # whose statistics the service keeps
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "broadcasts",
        *(["db:optimize"] if sqlite else []),
        "poll:mastodon",
        "poll:x",
        "send:mastodon",
        "send:x",
    ]
