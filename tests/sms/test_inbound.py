"""Twilio's inbound form → an inbound text or one line naming the field; any form at all, never
an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.sms.inbound import InboundText, Media, Unreadable, read_form
from socialbot.sms.phone import mask

SID = "SM" + "0123456789abcdef" * 2
FORM = [
    ("ToCountry", "US"),
    ("SmsMessageSid", SID),
    ("NumMedia", "0"),
    ("MessageSid", SID),
    ("AccountSid", "AC" + "a" * 32),
    ("From", "+16175550123"),
    ("To", "+16175550100"),
    ("Body", "Pothole on Main St"),
    ("NumSegments", "1"),
    ("ApiVersion", "2010-04-01"),
]


def test_an_sms_is_read_and_every_field_kept() -> None:
    text = read_form(FORM)

    assert isinstance(text, InboundText)
    assert (text.message_sid, text.sender, text.recipient) == (SID, "+16175550123", "+16175550100")
    assert text.body == "Pothole on Main St" and text.media == ()
    # Kept for audit but the sender, whom `sender` records once; our own number masked too.
    kept = {k: v for k, v in FORM if k != "From"} | {"To": "+•••••••••00"}
    assert json.loads(text.form) == kept


def test_an_mms_brings_its_media_in_order() -> None:
    form = [
        *[(k, v) for k, v in FORM if k != "NumMedia"],
        ("NumMedia", "2"),
        ("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2"),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"),
        ("MediaContentType1", "image/png"),
    ]
    text = read_form(form)

    assert isinstance(text, InboundText)
    assert [m.content_type for m in text.media] == ["image/jpeg", "image/png"]
    assert text.media[0] == Media(form[-2][1], "image/jpeg")


def test_unknown_fields_a_short_code_and_no_body_are_no_error() -> None:
    form = [(k, v) for k, v in FORM if k not in ("Body", "To")]
    text = read_form([*form, ("To", "311311"), ("AddedByTwilioIn2027", "\x00odd\ud800")])

    assert isinstance(text, InboundText)
    assert text.body == "" and text.recipient == "311311"
    assert json.loads(text.form)["AddedByTwilioIn2027"] == "\x00odd\ud800"


def test_the_body_is_made_storable() -> None:
    form = [*[(k, v) for k, v in FORM if k != "Body"], ("Body", "a\x00b\udc80")]
    text = read_form(form)
    assert isinstance(text, InboundText) and text.body == "ab\ufffd"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"MessageSid": None}, "MessageSid: missing"),
        ({"MessageSid": "SM123"}, "MessageSid: not a Twilio message SID"),
        ({"MessageSid": "AC" + "a" * 32}, "MessageSid: not a Twilio message SID"),
        ({"From": None}, "From: missing"),
        ({"From": "6175550123"}, "From: not a phone number in E.164"),
        ({"From": "+1617555012345678"}, "From: not a phone number in E.164"),
        ({"To": None}, "To: missing"),
        ({"To": "whatsapp:+16175550100"}, "To: neither a phone number in E.164 nor a short code"),
        ({"NumMedia": "one"}, "NumMedia: not a number of media"),
        ({"NumMedia": "٣"}, "NumMedia: not a number of media"),  # a digit, but not ASCII
        ({"NumMedia": "1"}, "MediaUrl0: missing (NumMedia is 1)"),
    ],
)
def test_a_form_that_is_no_text_says_which_field(
    change: dict[str, str | None], reason: str
) -> None:
    form = [(k, change.get(k, v)) for k, v in FORM]
    text = read_form([(k, v) for k, v in form if v is not None])

    assert isinstance(text, Unreadable) and text.reason.startswith(reason)
    assert "617555" not in text.reason  # no number quoted


def test_a_field_given_twice_is_ambiguous() -> None:
    text = read_form([*FORM, ("From", "+16175550999")])
    assert text == Unreadable("From: given 2 times; Twilio sends it once")


def test_a_number_is_shown_by_its_last_two_digits_only() -> None:
    assert mask("+16175550123") == "+•••••••••23"
    assert "12345" not in mask("not a number 12345")
    assert "+16175550123" not in repr(read_form(FORM))


names = st.sampled_from(
    ["MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0", "Other"]
)
values = st.one_of(
    st.text(),
    st.sampled_from([SID, "+16175550123", "311311", "0", "1", "2", "\x00", "9" * 5000]),
    st.text(min_size=10_000, max_size=20_000),
)


@given(st.lists(st.tuples(st.one_of(names, st.text()), values), max_size=12))
def test_any_form_is_a_text_or_a_reason_never_an_exception(pairs: list[tuple[str, str]]) -> None:
    text = read_form(pairs)
    if isinstance(text, Unreadable):
        assert "\n" not in text.reason
        return
    assert "\x00" not in text.body
    json.loads(text.form)  # always JSON
    assert text.sender not in text.form  # the audit copy never holds the sender's number
    for media in text.media:
        assert "\x00" not in media.url + media.content_type
