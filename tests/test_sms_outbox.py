"""The outbox on SMS, over Twilio's REST API in its wire format (`responses`), on both
databases: a STOP is honoured before every send, Twilio's 21610 records one, its other errors
(20429, 21211) are what they are; sends are paced to the segments a second, on simulated time,
and a text its rate made miss its deadline is failed saying so."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialbot import consent
from socialbot.networks.sms.adapter import SmsNetwork, TwilioCredentials
from socialbot.outbox import EXPIRED, OPTED_OUT, STOPPING, Outbox, send_once
from socialbot.pacing import Pace, Pacer
from socialbot.sms.rules import sms_text_rules
from socialbot.sms.segments import segments
from socialbot.store.db import transaction
from socialbot.store.models import (
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    OutboxMessage,
    OutboxState,
)
from tests.conftest import Clock
from tests.networks.sms import server
from tests.sms_city import SimulatedSleep

_KEYS = itertools.count()
SPANISH = (
    "Aviso: el corte de agua en la calle Olmo sigue hasta el viernes. Habrá camiones cisterna "
    "en la esquina de la avenida Central desde las 8:00. Más información en el ayuntamiento."
)


@pytest.fixture
def twilio(clock: Clock) -> Iterator[server.TwilioServer]:
    made = server.TwilioServer(clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        made.serve(mock)
        yield made


def outbox(engine: Engine, clock: Clock, pacer: Pacer | None = None) -> Outbox:
    credentials = TwilioCredentials(server.ACCOUNT_SID, server.AUTH_TOKEN, server.CITY_NUMBER)
    return Outbox(
        engine=engine,
        platform=SmsNetwork(credentials, engine, clock=clock),
        user_id=lambda: server.CITY_NUMBER,
        pacer=pacer,
    )


def queue(
    engine: Engine,
    n: int,
    at: datetime,
    *,
    text: str | None = None,
    expires_at: datetime | None = None,
) -> int:
    """A text to resident `n`, as an alert or a reply names its recipient."""
    with transaction(engine) as session:
        row = OutboxMessage(
            platform="sms",
            account="intake",
            dedupe_key=f"test:{n}:{next(_KEYS)}",
            template="filed",
            lang="en",
            text=text or f"Case #{n} is filed. Reply STOP to stop.",
            recipient=server.resident(n),
            next_attempt_at=at,
            created_at=at,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def stop(engine: Engine, n: int, at: datetime, action: ConsentAction = ConsentAction.STOP) -> None:
    with transaction(engine) as session:
        consent.record_consent(
            session, "sms", server.resident(n), action, ConsentSource.KEYWORD, at=at, word="STOP"
        )


def row(engine: Engine, row_id: int) -> OutboxMessage:
    with Session(engine) as session:
        found = session.get(OutboxMessage, row_id)
        assert found is not None
        return found


def test_a_stop_holds_back_the_texts_queued_before_it_and_after_it(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    before = queue(engine, 1, clock())
    stop(engine, 1, clock())
    after = queue(engine, 1, clock())
    other = queue(engine, 2, clock())

    report = send_once(outbox(engine, clock), clock)

    assert [form["To"] for form in twilio.posted_forms] == [[server.resident(2)]]
    assert (report.sent, report.failed, report.opted_out) == (1, 2, 2)
    for held in (before, after):
        settled = row(engine, held)
        assert settled.state is OutboxState.FAILED and settled.last_error == OPTED_OUT
        assert server.resident(1)[3:] not in (settled.last_error or "")
    assert row(engine, other).state is OutboxState.SENT


def test_a_start_after_the_stop_lets_texts_go_again(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    stop(engine, 1, clock())
    stop(engine, 1, clock(), ConsentAction.START)
    queue(engine, 1, clock())
    assert send_once(outbox(engine, clock), clock).sent == 1


def test_a_stop_recorded_between_the_queue_and_the_claim_is_honoured(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    """The race: the sender has read its due rows, and the STOP lands before it claims one."""
    first, second = queue(engine, 1, clock()), queue(engine, 2, clock())

    class StopsMidway(Pacer):
        def turn(self, text: str) -> bool:
            if "#2" in text:
                stop(engine, 2, clock())  # after the due rows were read, before the claim
            return super().turn(text)

    pace = Pace(1000.0, segments, "segments")
    pacer = StopsMidway(pace, clock, SimulatedSleep(clock))
    report = send_once(outbox(engine, clock, pacer), clock)

    assert [form["To"] for form in twilio.posted_forms] == [[server.resident(1)]]
    assert row(engine, first).state is OutboxState.SENT
    assert row(engine, second).last_error == OPTED_OUT and report.opted_out == 1


def test_twilios_21610_records_the_stop_and_is_never_retried(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    twilio.failures += [
        (400, {}, server.error(400, 21610, "Attempt to send to unsubscribed recipient")),
        (400, {}, server.error(400, 21610, "Attempt to send to unsubscribed recipient")),
        (400, {}, server.error(400, 21610, "Attempt to send to unsubscribed recipient")),
    ]
    refused = [queue(engine, n, clock()) for n in (1, 2, 3)]
    later = queue(engine, 4, clock())

    report = send_once(outbox(engine, clock), clock)

    # Three opted-out numbers in a row are three residents' word, not a blocked account.
    assert report.stopped_by is None and report.sent == 1 and report.opted_out == 3
    assert row(engine, later).state is OutboxState.SENT
    with Session(engine) as session:
        events = session.exec(select(ConsentEvent).order_by(col(ConsentEvent.id))).all()
        assert consent.stopped(session, "sms", [server.resident(n) for n in (1, 2, 3, 4)]) == {
            server.resident(n) for n in (1, 2, 3)
        }
    assert [(e.address, e.action, e.source, e.mention_id) for e in events] == [
        (server.resident(n), ConsentAction.STOP, ConsentSource.CARRIER, None) for n in (1, 2, 3)
    ]
    for refused_id in refused:
        settled = row(engine, refused_id)
        assert settled.state is OutboxState.FAILED
        assert (settled.last_error or "").startswith(OPTED_OUT)
        assert server.resident(1)[3:] not in (settled.last_error or "")
    # Never tried again, and the next text to that number is held back without a request.
    clock.advance(hours=1)
    queue(engine, 1, clock())
    posts = len(twilio.posted_forms)
    assert send_once(outbox(engine, clock), clock).opted_out == 1
    assert len(twilio.posted_forms) == posts


def test_a_20429_holds_the_queue_and_the_text_goes_after(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    twilio.failures.append((429, {}, server.error(429, 20429, "Too Many Requests")))
    limited = queue(engine, 1, clock())
    report = send_once(outbox(engine, clock), clock)
    assert report.stopped_by == "RateLimited" and row(engine, limited).state is OutboxState.PENDING
    clock.advance(minutes=1)
    assert send_once(outbox(engine, clock), clock).sent == 1
    assert row(engine, limited).state is OutboxState.SENT


def test_a_21211_fails_that_text_alone(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    twilio.failures.append((400, {}, server.error(400, 21211, "Invalid 'To' Phone Number")))
    bad, good = queue(engine, 1, clock()), queue(engine, 2, clock())
    report = send_once(outbox(engine, clock), clock)
    assert (report.sent, report.failed, report.opted_out) == (1, 1, 0)
    assert "21211" in (row(engine, bad).last_error or "")
    assert row(engine, good).state is OutboxState.SENT
    with Session(engine) as session:
        assert session.exec(select(ConsentEvent)).all() == []  # a bad number is no STOP


# --- pacing ------------------------------------------------------------------------------------


def test_n_segments_at_r_a_second_take_n_over_r_seconds(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    start = clock()
    sleep = SimulatedSleep(clock)
    pacer = Pacer(Pace(0.5, segments, "segments"), clock, sleep)
    for n in range(1, 6):
        queue(engine, n, start)

    report = send_once(outbox(engine, clock, pacer), clock)

    assert report.sent == 5
    # One segment each at half a segment a second: a text every 2 s; the fifth's turn ends 10 s
    # after the first began.
    assert sleep.waits == [2.0, 2.0, 2.0, 2.0]
    assert pacer.free_at == start + timedelta(seconds=10)
    sent_at = [parsedate_to_datetime(str(m["date_created"])) for m in twilio.sent]
    assert [(t - sent_at[0]).total_seconds() for t in sent_at] == [0, 2, 4, 6, 8]


def test_a_three_segment_spanish_text_counts_three(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    assert segments(SPANISH) == 3  # UCS-2 for its accents: 67 units a segment
    assert sms_text_rules().fits(SPANISH)
    sleep = SimulatedSleep(clock)
    pacer = Pacer(Pace(1.0, segments, "segments"), clock, sleep)
    queue(engine, 1, clock(), text=SPANISH)
    queue(engine, 2, clock(), text="Short.")
    queue(engine, 3, clock(), text="Short.")
    send_once(outbox(engine, clock, pacer), clock)
    assert sleep.waits == [3.0, 1.0]


def test_waiting_its_turn_writes_nothing_to_the_rows_behind(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    start = clock()
    ids = [queue(engine, n, start) for n in range(1, 61)]
    pacer = Pacer(Pace(1.0, segments, "segments"), clock, SimulatedSleep(clock))
    send_once(outbox(engine, clock, pacer), clock)  # a batch: 50 of the 60
    with Session(engine) as session:
        waiting = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.id).in_(ids[50:]))
        ).all()
    assert {(r.state, r.next_attempt_at, r.attempts) for r in waiting} == {
        (OutboxState.PENDING, start, 0)
    }


def test_a_stop_while_waiting_its_turn_leaves_the_text_queued(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    ids = [queue(engine, n, clock()) for n in (1, 2, 3)]
    pacer = Pacer(Pace(1.0, segments, "segments"), clock, SimulatedSleep(clock, stop_after=1))
    report = send_once(outbox(engine, clock, pacer), clock)
    assert report.stopped_by == STOPPING and report.sent == 2
    assert [row(engine, i).state for i in ids] == [
        OutboxState.SENT,
        OutboxState.SENT,
        OutboxState.PENDING,
    ]
    assert row(engine, ids[2]).attempts == 0  # never claimed: nothing for `recover` to ask


def test_a_text_the_rate_made_miss_its_deadline_is_failed_saying_so(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    start = clock()
    deadline = start + timedelta(seconds=2)
    ids = [queue(engine, n, start, expires_at=deadline) for n in range(1, 5)]
    pacer = Pacer(Pace(1.0, segments, "segments"), clock, SimulatedSleep(clock))

    report = send_once(outbox(engine, clock, pacer), clock)

    # Turns at 0 s and 1 s go; the third's is at the deadline, the fourth's after it.
    assert (report.sent, report.expired, report.failed) == (2, 2, 2)
    assert [form["To"] for form in twilio.posted_forms] == [
        [server.resident(1)],
        [server.resident(2)],
    ]
    for late_id in ids[2:]:
        late = row(engine, late_id)
        assert late.state is OutboxState.FAILED
        assert (late.last_error or "").startswith(EXPIRED)
        assert "waited longer than the send rate (1 segment a second) allowed" in (
            late.last_error or ""
        )
    # One already past its deadline when the round begins goes the same way, unsent.
    queue(engine, 5, clock(), expires_at=clock())
    again = send_once(outbox(engine, clock, pacer), clock)
    assert (again.expired, again.sent) == (1, 0) and len(twilio.posted_forms) == 2


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(st.text(min_size=0, max_size=400), min_size=1, max_size=12),
    rate=st.sampled_from([0.25, 1.0, 3.0, 30.0]),
)
def test_any_texts_take_their_segments_over_the_rate(
    texts: list[str], rate: float, clock: Clock
) -> None:
    """Whatever the texts (any characters, empty ones), the turns add up to their segments over
    the rate, each text at least one, and no wait is negative."""
    start = clock()
    sleep = SimulatedSleep(clock)
    pacer = Pacer(Pace(rate, segments, "segments"), clock, sleep)
    for text in texts:
        assert pacer.turn(text)
    units = sum(max(1, segments(text)) for text in texts)
    assert pacer.free_at is not None
    # Each turn is a timedelta, kept to the microsecond.
    assert abs((pacer.free_at - start).total_seconds() - units / rate) <= 1e-6 * len(texts)
    assert all(wait > 0 for wait in sleep.waits)
