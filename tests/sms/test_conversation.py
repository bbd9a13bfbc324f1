"""A resident's texts as a conversation at intake, end to end on both databases: carrier
keywords (STOP, START, HELP), STATUS, ALERTS by district, reports in plain words, the menu and
its choice, a location completing the case that waits for it, and "resolved" by text. Every
reply is checked where it lands: Twilio's `POST Messages.json`, its `To` and `Body`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from socialbot import moderation
from socialbot.config import Settings
from socialbot.domain import CaseStatus, InboxReason, InboxState, MentionOutcome
from socialbot.lifecycle import Action
from socialbot.outbox import send_once
from socialbot.staff import Request
from socialbot.store.models import (
    Case,
    ConsentEvent,
    InboxItem,
    MentionRecord,
    OutboxMessage,
    OutboxState,
    Subscription,
)
from tests.conftest import Clock
from tests.networks.sms import server as twilio
from tests.sms.texting import CITY_NAME, PHOTO, TextingCity, media_url

WHERE = "42.3601, -71.0589"  # City Hall Plaza, Downtown


@pytest.fixture
def city(settings: Settings, engine: Engine, clock: Clock) -> Iterator[TextingCity]:
    texting = TextingCity(settings, engine, clock)
    with texting.running():
        yield texting


def _rows(engine: Engine, model: type) -> list:  # type: ignore[type-arg]
    with Session(engine) as session:
        return list(session.execute(select(model).order_by(model.id)).scalars())  # type: ignore[attr-defined]


def test_stop_is_recorded_and_never_answered_and_start_lifts_it(city: TextingCity) -> None:
    assert city.converse(1, "STOP") == []
    [stop] = _rows(city.engine, ConsentEvent)
    assert (stop.action, stop.source, stop.word, stop.address) == (
        "stop",
        "keyword",
        "stop",
        twilio.resident(1),
    )
    # Every keyword but START from a stopped number is recorded, not answered.
    assert city.converse(1, "HELP") == []
    assert city.converse(1, "ALERTS") == []
    assert _rows(city.engine, Subscription) == []
    [started] = city.converse(1, "Start")
    assert started.startswith(f"{CITY_NAME}: you will get our texts again")
    assert "STOP" in started
    assert [e.action for e in _rows(city.engine, ConsentEvent)] == ["stop", "start"]
    outcomes = [r.outcome for r in _rows(city.engine, MentionRecord)]
    assert outcomes == [MentionOutcome.KEYWORD] * 4


def test_stop_ends_the_alerts_it_had(city: TextingCity) -> None:
    city.converse(2, "ALERTS")
    city.converse(2, "unsubscribe")
    [subscription] = _rows(city.engine, Subscription)
    assert subscription.ended_reason == "stop"


def test_a_yes_from_a_number_that_never_stopped_is_no_keyword(city: TextingCity) -> None:
    [menu] = city.converse(3, "yes")
    assert menu.startswith("What is the problem? Reply 1 Pothole")
    assert _rows(city.engine, ConsentEvent) == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("help", f"{CITY_NAME}: text us a problem"),
        ("Info.", f"{CITY_NAME}: text us a problem"),
        ("AYUDA", f"{CITY_NAME}: envíe un problema"),
    ],
)
def test_help_names_the_city_what_the_number_is_for_and_how_to_stop(
    city: TextingCity, word: str, expected: str
) -> None:
    [about] = city.converse(4, word)
    assert about.startswith(expected)
    assert "STOP" in about
    assert ("ESTADO" if word == "AYUDA" else "STATUS") in about


def test_status_tells_the_newest_case_or_how_to_report(city: TextingCity) -> None:
    [none] = city.converse(5, "STATUS")
    assert none.startswith("We have no case from this number yet")
    [filed] = city.converse(5, f"pothole on Cambridge St {WHERE}")
    [case] = _rows(city.engine, Case)
    assert filed.startswith(f"Thanks! Your report is filed as case #{case.id} (Pothole)")
    [status] = city.converse(5, "estado")
    assert status.startswith(f"El caso #{case.id} (Bache) está recibido")
    # The question changed nothing: the case is as it was, the text linked to no case.
    assert _rows(city.engine, Case)[0].status is CaseStatus.NEW
    assert _rows(city.engine, MentionRecord)[-1].case_id is None


def test_alerts_for_a_district_the_whole_city_and_an_unknown_one(city: TextingCity) -> None:
    [dorchester] = city.converse(6, "ALERTS DORCHESTER")
    assert "alerts for Dorchester" in dorchester and "STOP" in dorchester
    [whole] = city.converse(7, "alerts")
    assert "alerts for the whole city" in whole
    [unknown] = city.converse(8, "ALERTAS Springfield")
    assert unknown.startswith("No conocemos ese distrito. Los nuestros: Charlestown, Downtown")
    [spanish] = city.converse(9, "alertas back-bay")
    assert "para Back Bay" in spanish
    subscribed = [
        (s.address, s.district, s.lang)
        for s in _rows(city.engine, Subscription)
        if s.ended_at is None
    ]
    assert subscribed == [
        (twilio.resident(6), "Dorchester", "en"),
        (twilio.resident(7), None, "en"),
        (twilio.resident(9), "Back Bay", "es"),
    ]


def test_a_text_that_names_no_problem_gets_the_menu_and_its_choice_files_it(
    city: TextingCity,
) -> None:
    city.text(
        10, f"there is a big hole in front of my house {WHERE}", [(media_url(1), "image/jpeg")]
    )
    city.poll()
    city.send()
    [menu] = city.replies_to(10)
    assert menu == (
        "What is the problem? Reply 1 Pothole, 2 Streetlight out, 3 Sidewalk repair, "
        "4 Missed trash pickup, 5 Graffiti, 6 Downed tree or limb. Or text HELP."
    )
    [waiting] = _rows(city.engine, InboxItem)
    assert (waiting.reason, waiting.state) == (InboxReason.MENU, InboxState.OPEN)
    [filed] = city.converse(10, "1")
    [case] = _rows(city.engine, Case)
    assert filed.startswith(f"Thanks! Your report is filed as case #{case.id} (Pothole)")
    assert (case.category, case.status, case.district) == ("pothole", CaseStatus.NEW, "Downtown")
    assert case.description.startswith("there is a big hole")
    [photo] = case.photo_urls  # the MMS's photo, kept in the media folder by the adapter
    assert Path(photo).parent == city.settings.media_dir and Path(photo).read_bytes() == PHOTO
    [done] = _rows(city.engine, InboxItem)
    assert (done.state, done.filed_case_id) == (InboxState.DONE, case.id)
    # The next "1" is no choice any more: no menu waits for it.
    [again] = city.converse(10, "1")
    assert again.startswith("What is the problem?")
    assert len(_rows(city.engine, Case)) == 1


def test_the_spanish_menu_fits_the_sms_rules_and_a_late_choice_is_no_choice(
    city: TextingCity, clock: Clock
) -> None:
    [menu] = city.converse(11, "hola, necesito ayuda con algo en mi calle")
    assert menu.startswith("¿Cuál es el problema? Responda 1 Bache, 2 Alumbrado apagado")
    assert city.network.text_rules.fits(menu)
    clock.advance(hours=25)
    [again] = city.converse(11, "2")
    assert again.startswith("¿Cuál es el problema?") or again.startswith("What is the problem?")
    assert _rows(city.engine, Case) == []


def test_a_location_text_completes_the_case_that_waits_for_it(city: TextingCity) -> None:
    [needs] = city.converse(12, "streetlight out")
    [case] = _rows(city.engine, Case)
    assert needs.startswith(f"Thanks! We opened case #{case.id} (Streetlight out) but need")
    assert case.status is CaseStatus.NEEDS_LOCATION
    [filed] = city.converse(12, f"it's at {WHERE}")
    [case] = _rows(city.engine, Case)
    assert (case.status, case.district) == (CaseStatus.NEW, "Downtown")
    assert filed.startswith(f"Thanks! Your report is filed as case #{case.id}")
    assert _rows(city.engine, MentionRecord)[-1].outcome is MentionOutcome.FOLLOW_UP


def test_a_new_problem_while_one_waits_is_a_case_of_its_own(city: TextingCity) -> None:
    city.converse(13, "bache")
    city.converse(13, f"graffiti {WHERE}")
    cases = _rows(city.engine, Case)
    assert [(c.category, c.status) for c in cases] == [
        ("pothole", CaseStatus.NEEDS_LOCATION),
        ("graffiti", CaseStatus.NEW),
    ]


def test_texts_of_one_number_in_one_page_are_decided_in_order(city: TextingCity) -> None:
    city.text(14, "my street has a problem")
    city.text(14, "3")
    city.text(14, WHERE)
    city.text(14, "STOP")
    city.text(14, "status")
    city.poll()
    city.send()
    [case] = _rows(city.engine, Case)
    assert (case.category, case.status) == ("sidewalk", CaseStatus.NEW)
    # The menu, the needs-location and the filed replies were queued in order, before the STOP;
    # by the time the outbox claims them the number has said STOP, so none goes out.
    queued = _rows(city.engine, OutboxMessage)
    assert [r.text.split(" ", 3)[:3] for r in queued] == [
        ["What", "is", "the"],
        ["Thanks!", "We", "opened"],
        ["Thanks!", "Your", "report"],
    ]
    assert all(r.state is OutboxState.FAILED and "STOP" in (r.last_error or "") for r in queued)
    assert city.replies_to(14) == []


def test_a_page_read_again_writes_nothing_twice(city: TextingCity, engine: Engine) -> None:
    city.text(15, "ALERTS Roxbury")
    city.text(16, "STOP")
    city.text(17, "hello there")
    city.poll()
    before = [
        len(_rows(engine, model))
        for model in (ConsentEvent, Subscription, InboxItem, OutboxMessage)
    ]
    with Session(engine) as session:  # the cursor as it was: the same texts read again
        from socialbot.store.models import Account

        account = session.execute(select(Account)).scalar_one()
        account.cursor = None
        session.commit()
    city.poll()
    after = [
        len(_rows(engine, model))
        for model in (ConsentEvent, Subscription, InboxItem, OutboxMessage)
    ]
    assert before == after == [1, 1, 1, 2]


def test_a_case_from_a_text_resolved_by_staff_is_answered_by_text(
    city: TextingCity, clock: Clock
) -> None:
    city.converse(18, f"pothole {WHERE}")
    [case] = _rows(city.engine, Case)
    assert case.id is not None
    clock.advance(hours=2)
    city.staff.act(Request(case.id, Action.RESOLVE, "ana"), clock())
    send_once(city.outbox, clock)
    form = city.server.posted_forms[-1]
    assert form["To"] == [twilio.resident(18)]
    assert form["Body"] == [
        f"Good news: the crew has filled the pothole from case #{case.id}. "
        "Thank you for reporting it!"
    ]


def test_a_number_staff_blocked_still_stops(city: TextingCity) -> None:
    # A block is staff's: it keeps intake from answering. A STOP is the resident's, and the
    # law's: a blocked number's STOP is recorded all the same and ends its alerts, or the alerts
    # (which ask no block) would go on after it.
    city.converse(6, "ALERTS")
    number = twilio.resident(6)
    moderation.block(
        city.engine, moderation.Account("sms", number), by="staff", reason="abuse", now=city.clock()
    )
    assert city.converse(6, "STOP") == []
    assert [e.action for e in _rows(city.engine, ConsentEvent)] == ["stop"]
    [subscription] = _rows(city.engine, Subscription)
    assert subscription.ended_reason == "stop"
