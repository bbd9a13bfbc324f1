"""networks/sms/wire: recorded rows → Mention or Malformed (never an exception), and Twilio's
answers read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from socialbot.domain import MediaType, Mention
from socialbot.networks.base import Malformed
from socialbot.networks.sms import wire
from tests.networks.sms import server

RECEIVED = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)


def row(**changed: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 7,
        "message_sid": server.inbound_sid(7),
        "sender": server.resident(7),
        "body": "#pothole on Elm St",
        "media": [],
        "received_at": RECEIVED,
    }
    return base | changed


def test_a_recorded_text_is_a_private_mention_answered_at_its_number() -> None:
    mention = wire.parse_row(row())
    assert isinstance(mention, Mention)
    assert (mention.platform, mention.post_id) == ("sms", server.inbound_sid(7))
    assert mention.author_id == mention.reply_context == server.resident(7)
    assert mention.author_username is None and mention.public is False
    assert (mention.text, mention.created_at) == ("#pothole on Elm St", RECEIVED)
    assert server.resident(7) not in mention.raw  # one copy of the number: the author's


def test_a_naive_or_other_zone_time_is_read_as_utc() -> None:
    naive = wire.parse_row(row(received_at=RECEIVED.replace(tzinfo=None)))
    boston = wire.parse_row(row(received_at=RECEIVED.astimezone(timezone(timedelta(hours=-5)))))
    assert isinstance(naive, Mention) and isinstance(boston, Mention)
    assert naive.created_at == boston.created_at == RECEIVED
    assert boston.created_at.tzinfo is UTC


def test_an_mms_photo_is_a_photo_and_other_files_are_left_out() -> None:
    media = [
        {
            "url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1",
            "content_type": "image/jpeg",
        },
        {"url": "https://api.twilio.com/x/ME2", "content_type": "text/vcard"},
    ]
    mention = wire.parse_row(row(media=media))
    assert isinstance(mention, Mention)
    [photo] = mention.media
    assert photo.type is MediaType.PHOTO and photo.url == media[0]["url"]


def test_a_row_that_cannot_be_read_names_its_column_and_never_the_number() -> None:
    broken = wire.parse_row(row(media=[{"url": "http://plain.example/1", "content_type": ""}]))
    assert isinstance(broken, Malformed)
    assert broken.post_id == server.inbound_sid(7)
    assert broken.problem.startswith("media[0].url")
    unreadable = wire.parse_row(row(sender="+1 617 555 2007"))
    assert isinstance(unreadable, Malformed) and unreadable.problem.startswith("sender")
    assert "617" not in unreadable.problem + unreadable.raw
    no_sid = wire.parse_row(row(message_sid="SMnope"))
    assert isinstance(no_sid, Malformed) and no_sid.post_id is None


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.lists(
        st.dictionaries(st.text(max_size=12), st.one_of(st.text(), st.integers())), max_size=3
    ),
    st.dictionaries(st.text(max_size=5), st.text(), max_size=3),
)


@given(st.fixed_dictionaries({name: _VALUES for name in wire.COLUMNS}))
def test_any_row_is_a_mention_or_a_malformed(values: dict[str, Any]) -> None:
    read = wire.parse_row(values)
    assert isinstance(read, Mention | Malformed)
    if isinstance(read, Mention):
        assert read.created_at.tzinfo is UTC and read.public is False


@given(st.sampled_from([server.inbound_sid(1), "SM" + "a" * 32]), st.text(), _VALUES)
def test_any_body_and_media_with_a_good_sid_is_read_or_refused(
    sid: str, body: str, media: Any
) -> None:
    read = wire.parse_row(row(message_sid=sid, body=body, media=media))
    assert isinstance(read, Mention | Malformed)
    assert read.post_id == sid


def test_twilio_answers_are_read() -> None:
    sent = wire.parse_message(server.message("SM" + "1" * 32, "+16175552001", "hi", RECEIVED))
    assert (sent.sid, sent.to, sent.sender, sent.created_at) == (
        "SM" + "1" * 32,
        "+16175552001",
        server.CITY_NUMBER,
        RECEIVED,
    )
    said = wire.parse_error(server.error(400, 21610, "Attempt to send to unsubscribed recipient"))
    assert (said.code, said.message) == (21610, "Attempt to send to unsubscribed recipient")
    assert wire.parse_error("<html>502</html>") == wire.TwilioError(None, "")


@given(st.text())
def test_any_error_body_is_read_without_an_exception(text: str) -> None:
    assert isinstance(wire.parse_error(text), wire.TwilioError)


@given(
    st.recursive(
        st.one_of(st.none(), st.integers(), st.text()),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_any_json_is_a_page_or_a_data_error(payload: Any) -> None:
    from socialbot.errors import DataError

    try:
        messages, _ = wire.parse_message_page({"messages": [payload]})
    except DataError:
        return
    assert all(m.sid.startswith(("SM", "MM")) for m in messages)
