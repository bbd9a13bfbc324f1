"""A resident on one network whose report was linked to a case from another network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from socialbot.app import Service, build_staff
from socialbot.config import Settings
from socialbot.lifecycle import Action
from socialbot.scheduler import Jobs
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import MentionRecord, OutboxMessage
from socialbot.store.queries import list_cases
from tests.conftest import Clock
from tests.x_and_mastodon import x_and_mastodon

DIRECT_STREETLIGHT = "113500000000000012"  # the demo's direct mention, at 42.312, -71.114


@pytest.fixture
def service(settings: Settings, clock: Clock) -> Iterator[Service]:
    with x_and_mastodon(
        settings, clock, "@DemoCity311 #streetlight out at 42.31200, -71.11400"
    ) as service:
        yield service


def test_a_mastodon_reporter_linked_to_an_x_case_hears_the_news_on_mastodon(
    service: Service, clock: Clock
) -> None:
    Jobs(service).poll()  # X first: its streetlight case; Mastodon's direct report links to it
    [x_case] = [c for c in list_cases(service.engine) if c.category == "streetlight"]
    assert x_case.platform == "x"
    with transaction(service.engine) as session:
        linked = session.exec(
            select(MentionRecord).where(MentionRecord.post_id == DIRECT_STREETLIGHT)
        ).one()
    assert linked.case_id == x_case.id  # linked across networks, as intake decides today

    staff = build_staff(service.settings)
    staff.act(Request(x_case.id, Action.RESOLVE, "ana"), clock())
    staff.engine.dispose()

    with transaction(service.engine) as session:
        [told] = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.in_reply_to_post_id == DIRECT_STREETLIGHT,
                OutboxMessage.template == "resolved",
            )
        ).all()
    # The resident posted on Mastodon, privately: the news must go to Mastodon, as a direct
    # reply, never as an X reply to a Mastodon status id.
    assert told.platform == "mastodon"
    assert told.reply_context == linked.reply_context
