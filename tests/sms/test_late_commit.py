"""A text whose row commits after a later one's: on PostgreSQL two webhook requests at once take
their ids from a sequence in one order and may commit in the other, so a poll between the two
commits sees the higher id first. The adapter's cursor is the highest id read; the lower one,
committed a moment later, must still reach intake, once (a burst of STOPs after an alert is
exactly when requests come at once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select
from sqlmodel import Session, col

from socialbot.config import Settings
from socialbot.sms.inbound import InboundText, read_form
from socialbot.store.models import ConsentEvent, MentionRecord, SmsInbound
from tests.conftest import Clock
from tests.sms.texting import TextingCity, form


@pytest.fixture
def city(settings: Settings, engine: Engine, clock: Clock) -> Iterator[TextingCity]:
    texting = TextingCity(settings, engine, clock)
    with texting.running():
        yield texting


def _record_with_id(city: TextingCity, row_id: int, n: int, sender: int, body: str) -> str:
    """Text `n` recorded as the webhook records it, under the id its sequence gave it."""
    inbound = read_form(form(n, sender, body))
    assert isinstance(inbound, InboundText)
    with city.engine.begin() as connection:
        connection.execute(
            insert(SmsInbound).values(
                id=row_id,
                message_sid=inbound.message_sid,
                sender=inbound.sender,
                recipient=inbound.recipient,
                body=inbound.body,
                media=[],
                form=inbound.form,
                received_at=city.clock(),
            )
        )
    return inbound.message_sid


def test_a_text_committed_after_a_later_one_is_read_once(city: TextingCity) -> None:
    first = _record_with_id(city, 2, 2, sender=2, body="pothole 42.3601, -71.0589")
    city.poll()  # sees id 2: the cursor is past 1, which is not committed yet
    late = _record_with_id(city, 1, 1, sender=1, body="STOP")
    city.clock.advance(seconds=5)
    city.poll()
    city.poll()  # and never twice
    with Session(city.engine) as session:
        sids = list(session.execute(select(col(MentionRecord.post_id))).scalars())
        stops = list(session.execute(select(col(ConsentEvent.action))).scalars())
    assert sorted(sids) == sorted([first, late])  # each once
    assert [str(s) for s in stops] == ["stop"]
