"""Alerts to SMS subscribers on a real database (SQLite, and PostgreSQL when configured): one
outbox row per active subscriber when the broadcast fires, in their language, of their district
and the whole city's, never to a number that said STOP; the preview's figures; the deadline that
covers the paced send; the run's texts counted as they go; sent through Twilio's wire format."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import responses
from sqlalchemy import Engine, event, insert, update
from sqlmodel import Session, col, select

from socialbot.app import sms_alert_sending
from socialbot.broadcasts.audience import ALERT_SEGMENTS, SubscriberSending, about
from socialbot.broadcasts.broadcaster import Broadcaster, BroadcastRequest
from socialbot.broadcasts.templates import BroadcastTemplates
from socialbot.config import SHIPPED_TEMPLATES, load_settings
from socialbot.consent import record_consent, subscribe
from socialbot.errors import BroadcastError
from socialbot.metering import DatabaseMeter, read_usage
from socialbot.network_settings import Channel
from socialbot.networks.base import Draft
from socialbot.networks.sms.adapter import SmsNetwork, TwilioCredentials
from socialbot.networks.x.rules import X_MEDIA, X_TEXT
from socialbot.outbox import Outbox, send_once
from socialbot.sms import segments
from socialbot.store.models import (
    Broadcast,
    ConsentAction,
    ConsentSource,
    OutboxMessage,
    OutboxState,
    Subscription,
)
from socialbot.usage import Charge, Prices
from tests.conftest import Clock
from tests.networks.sms import server

BOSTON = ZoneInfo("America/New_York")
GRACE = timedelta(minutes=15)
DISTRICTS = ("Dorchester", "Roxbury", "Jamaica Plain")
EN = "Water main break on Elm St: no water until 6 pm. Bottled water at the library."
ES = "Rotura de tubería en Elm St: sin agua hasta las 6 pm. Agua embotellada en la biblioteca."
ANA, BEN, CY, DI, ED = (server.resident(n) for n in range(1, 6))


def sending(per_second: float = 1.0, price: float = 0.0083) -> SubscriberSending:
    settings = load_settings(
        database_url="sqlite://",
        twilio_segments_per_second=per_second,
        twilio_price_per_segment=price,
    )
    return sms_alert_sending(settings)


def make_broadcaster(
    engine: Engine, tmp_path: Path, clock: Clock, how: SubscriberSending | None = None
) -> Broadcaster:
    how = how or sending()
    (tmp_path / "templates" / "broadcast").mkdir(parents=True, exist_ok=True)
    return Broadcaster(
        engine=engine,
        templates=BroadcastTemplates.for_dirs(tmp_path / "templates", SHIPPED_TEMPLATES),
        channels=(Channel("x", "notify"), Channel("sms", "intake")),
        zone=BOSTON,
        grace=GRACE,
        clock=clock,
        media_dir=tmp_path / "media",
        text_rules={"x": X_TEXT, "sms": how.rules},
        media_rules={"x": X_MEDIA},
        subscribers={"sms": how},
        districts=DISTRICTS,
    )


@pytest.fixture
def broadcaster(engine: Engine, tmp_path: Path, clock: Clock) -> Broadcaster:
    return make_broadcaster(engine, tmp_path, clock)


def to_sms(**fields: object) -> BroadcastRequest:
    defaults: dict[str, object] = {
        "account": "intake",
        "network": "sms",
        "langs": ("en", "es"),
        "texts": (EN, ES),
    }
    return BroadcastRequest(**{**defaults, **fields})  # type: ignore[arg-type]


def subscribed(engine: Engine, at: datetime, *people: tuple[str, str | None, str]) -> None:
    with Session(engine) as session:
        for address, district, lang in people:
            subscribe(session, "sms", address, district=district, lang=lang, at=at)
        session.commit()


def said_stop(engine: Engine, address: str, at: datetime) -> None:
    with Session(engine) as session:
        record_consent(session, "sms", address, ConsentAction.STOP, ConsentSource.KEYWORD, at=at)
        session.commit()


def alert_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.recipient).is_not(None))
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def test_each_subscriber_gets_one_text_in_their_language_and_no_stopped_number_any(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    subscribed(
        engine,
        clock(),
        (ANA, None, "en"),
        (BEN, None, "es"),
        (CY, "Roxbury", "fr"),  # a language the alert lacks: its first
        (DI, None, "es"),
    )
    said_stop(engine, DI, clock())

    view = broadcaster.send_now(to_sms(), actor="comms")

    rows = alert_rows(engine)
    assert {r.recipient: (r.lang, r.text) for r in rows} == {
        ANA: ("en", EN),
        BEN: ("es", ES),
        CY: ("en", EN),
    }
    assert len({r.dedupe_key for r in rows}) == 3
    assert all(r.dedupe_key.startswith(f"broadcast:{view.run.id}:to:") for r in rows)
    assert all(r.platform == "sms" and r.account == "intake" for r in rows)
    assert all(r.state is OutboxState.PENDING and r.after_id is None for r in rows)
    # The deadline covers the paced send: due + grace + every segment at 1 a second.
    units = 2 * segments.segments(EN) + segments.segments(ES)
    assert {r.expires_at for r in rows} == {clock() + GRACE + timedelta(seconds=units)}
    assert view.texted is not None and view.outcome == "sending"
    assert sorted((t.lang, t.queued) for t in view.texted) == [("en", 2), ("es", 1)]


def test_a_district_alert_texts_that_district_and_the_whole_city_only(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    subscribed(
        engine,
        clock(),
        (ANA, "Jamaica Plain", "en"),
        (BEN, None, "en"),
        (CY, "Roxbury", "en"),
    )
    broadcaster.send_now(to_sms(district="jamaica-PLAIN"), actor="comms")

    assert {r.recipient for r in alert_rows(engine)} == {ANA, BEN}
    with Session(engine) as session:
        assert session.exec(select(Broadcast.district)).one() == "Jamaica Plain"


def test_an_unknown_district_is_one_line_naming_the_districts(broadcaster: Broadcaster) -> None:
    with pytest.raises(BroadcastError) as caught:
        broadcaster.prepare(to_sms(district="Narnia"))
    message = str(caught.value)
    assert "\n" not in message and "'Narnia'" in message
    assert "Dorchester, Roxbury, Jamaica Plain" in message


def test_the_public_network_still_gets_its_one_post_of_a_district_alert(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    subscribed(engine, clock(), (ANA, "Dorchester", "en"), (BEN, "Roxbury", "en"))
    request = BroadcastRequest(account="notify", langs=("en",), texts=(EN,), district="Dorchester")
    targets = broadcaster.targets(request)
    # The SMS target stands in for `notify`: texted from its one sender.
    assert [(t.network, t.account) for t in targets] == [("x", "notify"), ("sms", "intake")]
    for target in targets:
        broadcaster.send_now(target, actor="comms")
    with Session(engine) as session:
        public = session.exec(select(OutboxMessage).where(col(OutboxMessage.platform) == "x")).all()
    assert [p.text for p in public] == [EN] and public[0].recipient is None
    assert {r.recipient for r in alert_rows(engine)} == {ANA}
    assert [t.network for t in broadcaster.targets(request, ["sms"])] == ["sms"]
    # An image goes with the public post; a text to subscribers carries none.
    pictured = dataclasses.replace(request, media=Path("storm.png"), alt="The storm's path")
    assert [t.media for t in broadcaster.targets(pictured)] == [Path("storm.png"), None]
    with pytest.raises(BroadcastError, match="--channel 'fax': not a network"):
        broadcaster.targets(request, ["fax"])


def test_an_alert_longer_than_its_segments_names_its_language_and_length(
    broadcaster: Broadcaster,
) -> None:
    long_es = "Atención: " + "corte de agua en la zona. " * 20
    with pytest.raises(BroadcastError) as caught:
        broadcaster.prepare(to_sms(texts=(EN, long_es)))
    message = str(caught.value)
    measured = segments.measure(long_es.strip())
    assert measured.segments > ALERT_SEGMENTS
    assert f"(es): {measured.segments} segments (UCS-2)" in message
    assert f"over the {ALERT_SEGMENTS}" in message and "\n" not in message


@pytest.mark.parametrize("per_second", [1.0, 30.0])
def test_the_preview_counts_subscribers_segments_cost_and_time_at_the_rate(
    engine: Engine, tmp_path: Path, clock: Clock, per_second: float
) -> None:
    how = sending(per_second=per_second, price=0.0079)
    broadcaster = make_broadcaster(engine, tmp_path, clock, how)
    with Session(engine) as session:
        session.execute(
            insert(Subscription),
            [
                {
                    "platform": "sms",
                    "address": f"+1617{n:07d}",
                    "district": None if n % 3 else "Roxbury",
                    "lang": "es" if n % 4 == 0 else "en",
                    "created_at": clock(),
                }
                for n in range(1, 1201)
            ],
        )
        session.commit()
    preview = broadcaster.prepare(to_sms())
    audience = preview.audience
    assert audience is not None
    es = sum(1 for n in range(1, 1201) if n % 4 == 0)
    assert dict(audience.counts) == {"en": 1200 - es, "es": es}
    en_measure, es_measure = segments.measure(EN), segments.measure(ES)
    assert [(t.lang, t.encoding, t.units) for t in audience.texts] == [
        ("en", en_measure.encoding.value, en_measure.segments),
        ("es", es_measure.encoding.value, es_measure.segments),
    ]
    assert es_measure.encoding is segments.Encoding.UCS2  # "ú" of "tubería"
    total = (1200 - es) * en_measure.segments + es * es_measure.segments
    assert audience.units == total
    assert audience.cost == pytest.approx(total * 0.0079)
    assert audience.duration == timedelta(seconds=math.ceil(total / per_second))
    assert preview.post_count == 1200
    # A district's preview counts its subscribers and the whole city's only.
    dorchester = broadcaster.prepare(to_sms(district="Dorchester")).audience
    assert dorchester is not None and dorchester.subscribers == 1200 - 400


def test_about_says_a_send_as_staff_plan_by_it() -> None:
    assert about(timedelta(seconds=40)) == "about 40 s"
    assert about(timedelta(seconds=12 * 60 + 10)) == "about 12 min"
    assert about(timedelta(seconds=10_020)) == "about 2 h 47 min"


def test_a_scheduled_alert_reaches_who_is_subscribed_when_it_fires(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    subscribed(engine, clock(), (ANA, None, "en"), (BEN, "Dorchester", "es"))
    row = broadcaster.schedule(to_sms(district="Dorchester"), "comms", at=None, cron="0 7 * * *")
    assert row.district == "Dorchester" and not alert_rows(engine)
    clock.advance(hours=1)
    said_stop(engine, ANA, clock())
    subscribed(engine, clock(), (CY, "Dorchester", "en"), (DI, "Roxbury", "en"))
    assert row.next_due_at is not None
    clock.now = row.next_due_at + timedelta(minutes=1)

    first = broadcaster.fire_due()
    assert len(first.fired) == 1
    assert {r.recipient for r in alert_rows(engine)} == {BEN, CY}

    subscribed(engine, clock(), (ED, None, "es"))
    clock.advance(days=1)
    second = broadcaster.fire_due()
    assert len(second.fired) == 1
    rows = alert_rows(engine)
    assert sorted(r.recipient or "" for r in rows if r.broadcast_run_id == second.fired[0]) == (
        sorted([BEN, CY, ED])
    )
    assert len({r.dedupe_key for r in rows}) == len(rows) == 5


def test_ten_thousand_subscribers_are_one_insert_each_their_own_row(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    people = 10_000
    with Session(engine) as session:
        session.execute(
            insert(Subscription),
            [
                {
                    "platform": "sms",
                    "address": f"+1857{n:07d}",
                    "district": ("Dorchester", "Roxbury", None)[n % 3],
                    "lang": "es" if n % 5 == 0 else "en",
                    "created_at": clock(),
                }
                for n in range(people)
            ],
        )
        session.commit()
    stopped = [f"+1857{n:07d}" for n in range(0, people, 97)]
    with Session(engine) as session:
        for address in stopped:
            record_consent(
                session, "sms", address, ConsentAction.STOP, ConsentSource.CARRIER, at=clock()
            )
        session.commit()

    inserts: list[str] = []

    def count(conn: object, clause: object, *args: object) -> None:
        if str(clause).startswith("INSERT INTO outbox"):
            inserts.append(str(clause))

    event.listen(engine, "before_execute", count)
    try:
        view = broadcaster.send_now(to_sms(), actor="comms")
    finally:
        event.remove(engine, "before_execute", count)

    assert len(inserts) == 1  # one statement (the driver batches its rows), no flush a row
    rows = alert_rows(engine)
    expected = {f"+1857{n:07d}" for n in range(people)} - set(stopped)
    assert len(rows) == len(expected) and {r.recipient for r in rows} == expected
    assert len({r.dedupe_key for r in rows}) == len(rows)
    spanish = {f"+1857{n:07d}" for n in range(0, people, 5)} - set(stopped)
    assert {r.recipient for r in rows if r.lang == "es"} == spanish
    assert all(r.text == (ES if r.lang == "es" else EN) for r in rows)
    units = (len(expected) - len(spanish)) * segments.segments(EN) + len(
        spanish
    ) * segments.segments(ES)
    assert rows[0].expires_at == clock() + GRACE + timedelta(seconds=units)
    assert view.tally is not None and view.tally.queued == len(expected)


def test_the_run_counts_its_texts_sent_queued_opted_out_and_failed(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    subscribed(
        engine,
        clock(),
        (ANA, None, "en"),
        (BEN, None, "en"),
        (CY, None, "es"),
        (DI, None, "es"),
    )
    view = broadcaster.send_now(to_sms(), actor="comms")
    by_address = {r.recipient: r.id for r in alert_rows(engine)}
    with Session(engine) as session:
        for address, state in ((ANA, OutboxState.SENT), (DI, OutboxState.FAILED)):
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == by_address[address])
                .values(state=state)
            )
        session.commit()
    said_stop(engine, BEN, clock())  # after the fan-out: the sender will not send it

    done = broadcaster.run_view(view.run.id or 0)
    assert done.texted is not None
    counted = {t.lang: (t.sent, t.queued, t.opted_out, t.failed) for t in done.texted}
    assert counted == {"en": (1, 0, 1, 0), "es": (0, 1, 0, 1)}
    assert done.outcome == "partly sent"
    [entry] = [e for e in broadcaster.log(None) if e.run_id == view.run.id]
    assert entry.texted is not None
    assert entry.texted.describe() == "1 sent, 1 queued, 1 opted out, 1 failed"


def test_a_run_with_no_subscribers_says_so(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    view = broadcaster.send_now(to_sms(), actor="comms")
    assert view.outcome == "no subscribers" and not alert_rows(engine)


@pytest.fixture
def twilio(clock: Clock) -> Iterator[server.TwilioServer]:
    made = server.TwilioServer(clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        made.serve(mock)
        yield made


def test_alert_texts_go_to_each_subscriber_and_are_priced_by_their_segments(
    engine: Engine, broadcaster: Broadcaster, clock: Clock, twilio: server.TwilioServer
) -> None:
    subscribed(engine, clock(), (ANA, None, "en"), (BEN, None, "es"))
    view = broadcaster.send_now(to_sms(), actor="comms")
    credentials = TwilioCredentials(server.ACCOUNT_SID, server.AUTH_TOKEN, server.CITY_NUMBER)
    sms = SmsNetwork(
        credentials, engine, meter=DatabaseMeter(engine), clock=clock, price_per_segment=0.01
    )
    outbox = Outbox(engine=engine, platform=sms, user_id=sms.own_user_id, account="intake")

    report = send_once(outbox, clock)

    assert report.sent == 2
    assert {(f["To"][0], f["Body"][0]) for f in twilio.posted_forms} == {(ANA, EN), (BEN, ES)}
    assert broadcaster.run_view(view.run.id or 0).outcome == "sent"
    units = segments.segments(EN) + segments.segments(ES)
    month = f"{clock():%Y-%m}"
    [posts] = [u for u in read_usage(engine, month, Prices(sms_segment=0.01)) if u.network == "sms"]
    assert posts.units == {Charge.SMS_SEGMENT: units} and posts.calls == 2
    assert posts.spend == pytest.approx(units * 0.01)


def test_a_receipt_costs_the_texts_segments(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    credentials = TwilioCredentials(server.ACCOUNT_SID, server.AUTH_TOKEN, server.CITY_NUMBER)
    sms = SmsNetwork(credentials, engine, clock=clock, price_per_segment=0.0083)
    receipt = sms.publish(Draft(key="outbox:9", text=ES, recipient=ANA))
    assert receipt.cost == pytest.approx(segments.segments(ES) * 0.0083)
