"""Crash safety on the SMS path, for real: texts recorded as the webhook records them, a
`socialbot run` on SMS alone SIGKILLed at a failpoint of the poll or send cycle, restarted and
left to finish, Twilio's REST API the fake Twilio (`fake_twilio.py`). Then every text is one
`mentions` row (one per MessageSid), and Twilio got exactly one POST Messages.json for each,
to its number, none twice, none lost. On SQLite, and on PostgreSQL when
SOCIALBOT_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from socialbot.sms.inbound import InboundText, read_form
from socialbot.sms.record import record
from socialbot.store.db import make_engine, upgrade
from socialbot.store.models import MentionRecord, OutboxMessage, OutboxState
from tests.crash.fake_twilio import FakeTwilio
from tests.crash.harness import CrashHarness
from tests.networks.sms import server

pytestmark = pytest.mark.slow

TWILIO = {
    "SOCIALBOT_TWILIO_ACCOUNT_SID": server.ACCOUNT_SID,
    "SOCIALBOT_TWILIO_AUTH_TOKEN": server.AUTH_TOKEN,
    "SOCIALBOT_TWILIO_FROM": server.CITY_NUMBER,
    # Paced as a short code would be: the kills' timing, not the carrier's rate, is under test.
    "SOCIALBOT_TWILIO_SEGMENTS_PER_SECOND": "100",
}
TEXTS = [
    "#pothole https://maps.google.com/?q=42.3601,-71.0589",
    "#graffiti https://maps.google.com/?q=42.3500,-71.0800",
    "#streetlight https://maps.google.com/?q=42.3300,-71.1000",
    "#sidewalk broken, somewhere on my street",
    "when is trash day on my street?",
    "#downedtree https://maps.google.com/?q=42.3100,-71.1200",
]
# Each failpoint, and how many texts Twilio holds when the process has died at it.
SCENARIOS = {
    "poll.after_fetch": 0,
    "poll.mid_page": 0,
    "poll.after_commit": 0,
    "send.after_claim": 0,
    "send.after_post": 1,
    "send.after_post@3": 3,
}


class SmsCrashHarness(CrashHarness):
    """The crash harness with the fake Twilio in X's place, and Twilio's settings alone."""

    runner = "tests.crash.fake_twilio_run"
    credentials = TWILIO

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        super().__init__(tmp_path, database_url)
        self.fake_twilio = FakeTwilio.create(tmp_path / "fake-twilio.sqlite3")
        self.state = self.fake_twilio.path


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[SmsCrashHarness]:
    harness = SmsCrashHarness(tmp_path, database_url)
    try:
        yield harness
    finally:
        harness.close()


def deliver(database_url: str) -> list[str]:
    """The texts, each from its own resident, recorded as the webhook records them (the
    database migrated first, as `serve` finds it once `run` has made it)."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        sids = []
        for n, text in enumerate(TEXTS, start=1):
            inbound = read_form(server.inbound_form(n, text))
            assert isinstance(inbound, InboundText)
            assert record(engine, inbound, datetime.now(UTC))
            sids.append(inbound.message_sid)
        return sids
    finally:
        engine.dispose()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("failpoint", list(SCENARIOS))
def test_a_kill_at_any_point_records_each_text_once_and_answers_it_once(
    harness: SmsCrashHarness, failpoint: str
) -> None:
    sids = deliver(harness.database_url)

    killed = harness.start(failpoints=failpoint, name="killed")
    killed.wait_killed()
    assert f"event=failpoint name={failpoint.split('@')[0]} " in killed.log()
    assert len(harness.fake_twilio.sent()) == SCENARIOS[failpoint]

    restarted = harness.start(name="restarted")
    harness.wait_for(
        "every text recorded and every reply settled",
        lambda: harness.settled(sids),
        watch=[restarted],
    )
    assert restarted.stop() == 0, restarted.log()

    with Session(harness.engine) as session:
        mentions = session.exec(select(MentionRecord.post_id)).all()
        outbox = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        recorded = session.exec(select(func.count()).select_from(MentionRecord)).one()
    assert Counter(mentions) == Counter(sids) and recorded == len(TEXTS)
    sent = harness.fake_twilio.sent()
    residents = [server.resident(n) for n in range(1, len(TEXTS) + 1)]
    # One POST Messages.json a text, to its number; one reply row each, sent, with that SID.
    assert Counter(t.to for t in sent) == Counter(residents), sent
    assert [o.state for o in outbox] == [OutboxState.SENT] * len(TEXTS)
    assert sorted(o.recipient or "" for o in outbox) == sorted(residents)
    assert {o.posted_id: (o.recipient, o.text) for o in outbox} == {
        t.sid: (t.to, t.body) for t in sent
    }
    # The number is never in a log line in full.
    for process in harness.processes:
        assert all(number not in process.log() for number in residents)
