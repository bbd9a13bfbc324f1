"""A phone number is personal data: over a database holding texts (an SMS case with a photo, its
thread, a message for staff, a second report by the same number), no command, export, report,
status page, Open311 answer or CRM form shows one in full. A person of a network whose ids are
personal is shown masked (`app.NetworkKind.personal_ids`, `people`); every E.164 number the CLI
prints is masked besides (`cli.render.visible`, `json_text`)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialbot import app, people
from socialbot.catalog import load_catalog
from socialbot.config import load_settings
from socialbot.domain import CaseStatus, InboxReason, MentionOutcome
from socialbot.open311 import forwarder
from socialbot.open311.form import ForwardedCase, ServiceRule, request_form
from socialbot.sms.phone import mask
from socialbot.store.db import transaction
from socialbot.store.models import Case, InboxItem, MentionRecord
from socialbot.web.app import create_app
from socialbot.web.server import build_web
from tests.cli.run import invoke
from tests.conftest import Clock

RESIDENT = "+16175552001"
NEIGHBOUR = "+16175559988"  # a number the resident typed in their words
DIGITS = ("6175552001", "6175559988")  # what must never be shown, with or without "+1"
MASKED = "+•••••••••01"
# Yesterday: within every report's default window, whenever the test runs.
OPENED = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
SMS_PHOTO = "/var/lib/socialbot/media/sms-SM" + "1" * 32 + "-0.jpg"


def sid(n: int) -> str:
    return f"SM{n:032x}"


@pytest.fixture
def texts(engine: Engine) -> Engine:
    """Two reports by text from one number (one located, with a photo) and a question for
    staff; the words name the resident's own number and a neighbour's."""
    words = f"pothole at 42.35, -71.06 call me {RESIDENT} or my neighbour {NEIGHBOUR}"
    with transaction(engine) as session:
        for n, (lat, photos) in enumerate([(42.35, [SMS_PHOTO]), (None, [])], start=1):
            case = Case(
                category="pothole",
                department="Public Works – Highway",
                priority="normal",
                status=CaseStatus.NEW if lat is not None else CaseStatus.NEEDS_LOCATION,
                lat=lat,
                lon=-71.06 if lat is not None else None,
                location_source="text" if lat is not None else "none",
                photo_urls=photos,
                lang="en",
                platform="sms",
                mention_post_id=sid(n),
                author_id=RESIDENT,
                description=words,
                created_at=OPENED + timedelta(minutes=n),
                updated_at=OPENED + timedelta(minutes=n),
                public=False,
                public_photo_urls=[],
            )
            session.add(case)
            session.flush()
            session.add(
                MentionRecord(
                    platform="sms",
                    account="intake",
                    post_id=sid(n),
                    author_id=RESIDENT,
                    text=words,
                    created_at=case.created_at,
                    received_at=case.created_at,
                    outcome=MentionOutcome.CASE_OPENED,
                    case_id=case.id,
                    raw="{}",
                    reply_context=RESIDENT,
                )
            )
        question = MentionRecord(
            platform="sms",
            account="intake",
            post_id=sid(3),
            author_id=RESIDENT,
            text=f"when is trash day? text {RESIDENT}",
            created_at=OPENED + timedelta(minutes=3),
            received_at=OPENED + timedelta(minutes=3),
            outcome=MentionOutcome.UNCLASSIFIED,
            raw="{}",
            reply_context=RESIDENT,
        )
        session.add(question)
        session.flush()
        assert question.id is not None
        session.add(
            InboxItem(
                mention_id=question.id,
                platform="sms",
                account="intake",
                reason=InboxReason.QUESTION,
                created_at=question.created_at,
                public=False,
            )
        )
    return engine


@pytest.fixture
def personal_sms(monkeypatch: pytest.MonkeyPatch) -> None:
    """SMS as the composition root will know it (sms-channel wires the real entry): a network
    whose ids are personal. Its other fields are X's: only `personal_ids` is read here."""
    assert isinstance(app.NETWORKS, dict)
    kind = dataclasses.replace(app.NETWORKS["x"], personal_ids=True)
    monkeypatch.setitem(app.NETWORKS, "sms", kind)


COMMANDS = [
    ("status",),
    ("status", "--json"),
    ("cases", "list"),
    ("cases", "list", "--json"),
    ("cases", "list", "--csv"),
    ("cases", "show", "1"),
    ("cases", "show", "1", "--json"),
    ("inbox", "list"),
    ("inbox", "list", "--json"),
    ("inbox", "show", "1"),
    ("report", "--format", "json"),
    ("report", "engagement"),
    ("report", "hotspots"),
    ("report", "reporters", "--min", "2"),
    ("report", "reporters", "--min", "2", "--format", "json"),
    ("report", "reporters", "--min", "2", "--format", "csv"),
    ("export", "cases"),
    ("export", "cases", "--format", "geojson"),
]


@pytest.mark.parametrize("personal", [True, False], ids=["sms-wired", "sms-not-in-NETWORKS"])
def test_no_command_prints_a_number_in_full(
    texts: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    personal: bool,
) -> None:
    if personal:
        request.getfixturevalue("personal_sms")
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)
    shown = {}
    for command in COMMANDS:
        code, out = invoke(*command)
        assert code == 0, (command, out)
        shown[command] = out
        for digits in DIGITS:
            assert digits not in out, (command, out)
    # Not vacuous: the resident is there, as the masked number, where a person is shown.
    for command in [("cases", "list"), ("cases", "show", "1"), ("inbox", "list")]:
        assert MASKED in shown[command], (command, shown[command])
    assert "+•••••••••88" in shown[("cases", "show", "1")]  # the neighbour, in the words
    reporters = shown[("report", "reporters", "--min", "2")]
    assert MASKED in reporters and "1 people with 2+ reports" in reporters
    assert SMS_PHOTO in shown[("cases", "show", "1")]  # staff see the text's photo: our file


def test_a_network_whose_ids_are_personal_hides_even_an_id_that_is_no_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(app.NETWORKS, dict)
    monkeypatch.setitem(
        app.NETWORKS, "pager", dataclasses.replace(app.NETWORKS["x"], personal_ids=True)
    )
    assert app.shown_id("pager", "pager-user-4411") == "•" * len("pager-user-4411")
    assert app.shown_id("pager", RESIDENT) == MASKED
    assert app.shown_person("pager", RESIDENT, None) == MASKED
    assert app.shown_id("x", "1102") == "1102"  # the default: shown as today
    assert app.shown_person("x", "1102", "maria") == "@maria"
    assert app.shown_id("not-a-network", RESIDENT) == MASKED  # unknown: E.164 masked anyway
    assert "pager" in app.personal_networks() and "x" not in app.personal_networks()


@given(
    digits=st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True),
    personal=st.booleans(),
    handle=st.one_of(st.none(), st.text(max_size=20)),
    around=st.text(max_size=20),
)
def test_no_shown_person_spells_a_number(
    digits: str, personal: bool, handle: str | None, around: str
) -> None:
    number = "+" + digits
    assert people.shown_id(number, personal=personal) == mask(number)
    shown = people.shown_person(number, handle or None, personal=personal)
    assert number not in shown
    assert number not in people.shown_person(around, around + number, personal=personal)


def test_the_crm_gets_no_number_and_no_private_photo(texts: Engine, database_url: str) -> None:
    with transaction(texts) as session:
        case = session.get(Case, 1)
        assert case is not None
        settings = load_settings(database_url=database_url)
        made = forwarder.Forwarder(
            texts, cast(Any, None), {}, load_catalog(settings.hashtags), send_handle=True
        )
        forwarded = forwarder._forwarded(made, case)
    form = request_form(
        forwarded, ServiceRule("pothole"), api_key=None, jurisdiction_id=None, with_handle=True
    )
    sent = repr(form)
    assert not any(digits in sent for digits in DIGITS), sent
    assert "media_url" not in dict(form) and SMS_PHOTO not in sent
    assert MASKED in dict(form)["description"]  # the words go, the number masked


class InProcess:
    def __init__(self, settings_url: str) -> None:
        self.web = build_web(load_settings(database_url=settings_url))
        self.app = create_app(self.web)

    def get(self, path: str) -> httpx.Response:
        async def get() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.get(path)

        return asyncio.run(get())


@pytest.fixture
def web(texts: Engine, database_url: str) -> Iterator[InProcess]:
    made = InProcess(database_url)
    yield made
    made.web.engine.dispose()


def test_the_status_page_and_open311_show_no_number(web: InProcess, clock: Clock) -> None:
    for path in [
        "/cases/1",
        "/cases/1?lang=es",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/open311/v2/requests/1.json",
    ]:
        answer = web.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        for digits in DIGITS:
            assert digits not in answer.text, path
        assert SMS_PHOTO not in answer.text and "pothole at" not in answer.text, path


@given(
    before=st.text(max_size=60),
    digits=st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True),
    after=st.text(max_size=60),
)
def test_no_description_sent_to_the_crm_spells_a_number(
    before: str, digits: str, after: str
) -> None:
    case = ForwardedCase(1, "pothole", "Pothole", 42.35, -71.06, f"{before}+{digits} {after}")
    form = dict(
        request_form(case, ServiceRule("p"), api_key=None, jurisdiction_id=None, with_handle=False)
    )
    assert "+" + digits not in form["description"]
