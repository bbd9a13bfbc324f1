"""`POST /sms/twilio` in-process, on SQLite and PostgreSQL: a text signed for the public URL is
recorded once and answered with empty TwiML; a bad or missing signature, no auth token, or a
signed form that is no text is refused and records nothing; a phone number is never logged in
full; no form, however odd, is a 500."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from socialbot.config import Settings, load_settings
from socialbot.errors import ConfigError
from socialbot.web.app import create_app
from socialbot.web.server import build_web
from socialbot.web.sms_webhook import MAX_BODY_BYTES
from tests.web.sms import (
    EMPTY_TWIML,
    PUBLIC_URL,
    SENDER,
    SID,
    TOKEN,
    inbound_form,
    signature,
    signed,
)


class InProcess:
    """The app in-process, over httpx's ASGI transport (a bug raises here, with its traceback)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def post(self, path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        async def post() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.post(path, content=content, headers=headers)

        return asyncio.run(post())


def _client(settings: Settings) -> Iterator[InProcess]:
    web = build_web(settings)
    try:
        yield InProcess(create_app(web))
    finally:
        web.engine.dispose()
        if web.sms is not None:
            web.sms.dispose()


@pytest.fixture
def client(engine: Engine, database_url: str) -> Iterator[InProcess]:
    yield from _client(
        load_settings(database_url=database_url, twilio_auth_token=TOKEN, web_public_url=PUBLIC_URL)
    )


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        result = connection.execute(text("SELECT * FROM sms_inbound ORDER BY id"))
        return [dict(row._mapping) for row in result]


def test_a_signed_text_is_recorded_once_and_answered_with_empty_twiml(
    client: InProcess, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    body, headers = signed(inbound_form())
    with caplog.at_level(logging.DEBUG):
        first = client.post("/sms/twilio", content=body, headers=headers)
        again = client.post("/sms/twilio", content=body, headers=headers)  # Twilio's retry

    for answer in (first, again):
        assert answer.status_code == 200
        assert answer.text == EMPTY_TWIML
        assert answer.headers["content-type"] == "text/xml"
    [row] = _rows(engine)
    assert (row["message_sid"], row["sender"], row["recipient"]) == (SID, SENDER, "+16175550100")
    assert row["body"] == "#pothole on Main St"
    assert json.loads(str(row["form"]))["SmsStatus"] == "received"  # unknown fields kept
    assert "new=True" in caplog.text and "new=False" in caplog.text
    assert "+•••••••••23" in caplog.text
    assert SENDER not in caplog.text and SENDER[1:] not in caplog.text


def test_the_same_message_sid_with_other_words_records_nothing_more(
    client: InProcess, engine: Engine
) -> None:
    for words in ("first", "second"):
        body, headers = signed(inbound_form(body=words))
        assert client.post("/sms/twilio", content=body, headers=headers).text == EMPTY_TWIML
    assert [row["body"] for row in _rows(engine)] == ["first"]


def test_an_mms_records_its_media(client: InProcess, engine: Engine) -> None:
    form = [(k, v) for k, v in inbound_form() if k != "NumMedia"]
    media = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    form += [("NumMedia", "1"), ("MediaUrl0", media), ("MediaContentType0", "image/jpeg")]
    body, headers = signed(form)

    assert client.post("/sms/twilio", content=body, headers=headers).status_code == 200
    [row] = _rows(engine)
    assert row["media"] in (
        [{"url": media, "content_type": "image/jpeg"}],
        json.dumps([{"url": media, "content_type": "image/jpeg"}]),  # SQLite hands back text
    )


def test_a_query_string_is_part_of_what_is_signed(client: InProcess, engine: Engine) -> None:
    body, headers = signed(inbound_form(), query="city=boston")
    assert client.post("/sms/twilio?city=boston", content=body, headers=headers).status_code == 200
    assert client.post("/sms/twilio", content=body, headers=headers).status_code == 403
    assert len(_rows(engine)) == 1


@pytest.mark.parametrize(
    "change",
    ["missing", "empty", "another token", "the URL the app sees", "a changed field"],
)
def test_a_request_not_signed_for_the_public_url_is_403_and_records_nothing(
    client: InProcess, engine: Engine, change: str, caplog: pytest.LogCaptureFixture
) -> None:
    form = inbound_form()
    body, headers = signed(form)
    if change == "missing":
        del headers["x-twilio-signature"]
    elif change == "empty":
        headers["x-twilio-signature"] = ""
    elif change == "another token":
        headers = signed(form, token="f" * 32)[1]
    elif change == "the URL the app sees":  # what a proxy-unaware check would compare
        headers["x-twilio-signature"] = signature(form, "http://testserver/sms/twilio")
    else:
        body = body.replace(b"Main", b"Elm")

    with caplog.at_level(logging.DEBUG):
        answer = client.post("/sms/twilio", content=body, headers=headers)

    assert answer.status_code == 403
    assert answer.text == "X-Twilio-Signature: missing or not Twilio's for this URL\n"
    assert _rows(engine) == []
    assert SENDER[2:] not in caplog.text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("MessageSid", "MessageSid: missing"),
        ("From", "From: missing"),
    ],
)
def test_a_signed_form_that_is_no_text_is_400_naming_the_field(
    client: InProcess, engine: Engine, change: str, reason: str
) -> None:
    form = [(k, v) for k, v in inbound_form() if k != change]
    body, headers = signed(form)

    answer = client.post("/sms/twilio", content=body, headers=headers)

    assert answer.status_code == 400
    assert answer.text == reason + "\n"
    assert _rows(engine) == []


def test_without_an_auth_token_every_request_is_refused(engine: Engine, database_url: str) -> None:
    settings = load_settings(database_url=database_url, web_public_url=PUBLIC_URL)
    for client in _client(settings):
        body, headers = signed(inbound_form())  # signed with a token the service does not have
        answer = client.post("/sms/twilio", content=body, headers=headers)
        assert answer.status_code == 403
        assert "no TWILIO_AUTH_TOKEN" in answer.text
    assert _rows(engine) == []


def test_an_auth_token_without_the_public_url_stops_the_service_at_start(
    database_url: str,
) -> None:
    with pytest.raises(ConfigError, match=r"^SOCIALBOT_WEB_PUBLIC_URL: not set; with SOCIALBOT"):
        build_web(load_settings(database_url=database_url, twilio_auth_token=TOKEN))


def test_a_body_larger_than_any_text_is_refused_unread(client: InProcess, engine: Engine) -> None:
    body, headers = signed(inbound_form(body="x" * MAX_BODY_BYTES))
    answer = client.post("/sms/twilio", content=body, headers=headers)
    assert answer.status_code == 413
    assert _rows(engine) == []


def test_a_database_not_made_yet_is_a_503_and_nothing_is_created(tmp_path: Path) -> None:
    database = tmp_path / "not-yet.db"
    settings = load_settings(
        database_url=f"sqlite:///{database}", twilio_auth_token=TOKEN, web_public_url=PUBLIC_URL
    )
    for client in _client(settings):
        body, headers = signed(inbound_form())
        answer = client.post("/sms/twilio", content=body, headers=headers)
        assert answer.status_code == 503
        assert answer.text == "the database cannot be written now; try again later\n"
    assert not database.exists()


fields = st.sampled_from(
    ["MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0"]
)
# Any text a request can carry: UTF-8 has no lone surrogates (the route decodes what is not
# UTF-8 as U+FFFD, which then fails the signature).
chars = st.characters(exclude_categories=("Cs",))
values = st.one_of(
    st.text(chars),
    st.sampled_from([SID, SENDER, "+16175550100", "0", "1", "\x00", "%00", "&=+"]),
    st.text(chars, min_size=5_000, max_size=40_000),
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    extra=st.lists(st.tuples(st.one_of(fields, st.text(chars, max_size=30)), values), max_size=6),
    keep=st.lists(st.booleans(), min_size=13, max_size=13),
)
def test_any_signed_form_is_recorded_or_a_400_never_a_500(
    client: InProcess, engine: Engine, extra: list[tuple[str, str]], keep: list[bool]
) -> None:
    form = [pair for pair, kept in zip(inbound_form(), keep, strict=True) if kept] + extra
    body, headers = signed(form)

    answer = client.post("/sms/twilio", content=body, headers=headers)

    if len(body) > MAX_BODY_BYTES:
        assert answer.status_code == 413
        return
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 200:
        assert answer.text == EMPTY_TWIML
    else:
        assert answer.text.count("\n") == 1


def test_a_body_that_is_not_utf8_is_refused_not_a_500(client: InProcess, engine: Engine) -> None:
    body, headers = signed(inbound_form())
    answer = client.post("/sms/twilio", content=body + b"&Extra=%ED%A0%80\xff", headers=headers)
    assert answer.status_code == 403
    assert _rows(engine) == []
