"""E.164 numbers from Twilio's `From`, and a number never shown in full: masked, in logs too."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from socialbot.errors import DataError
from socialbot.logs import setup_logging
from socialbot.sms.phone import PhoneNumber, mask, masked_in, parse


@pytest.mark.parametrize("value", ["+15551234567", "+447700900123", "+12345678", "+1" + "2" * 14])
def test_e164_is_taken(value: str) -> None:
    assert parse(value).e164 == value


@pytest.mark.parametrize(
    "value",
    [
        "15551234567",  # no "+"
        " 15551234567",  # the "+" a form decoder turned into a space
        "+0123456789",  # no country code starts with 0
        "+1555123",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+1 555 123 4567",
        "+1-555-123-4567",
        "whatsapp:+15551234567",
        "12345",  # a short code
        "CITYHALL",  # an alphanumeric sender
        "+15551234567\n",
        "+\uff11\uff15\uff15\uff15\uff11\uff12\uff13\uff14\uff15\uff16\uff17",  # full-width digits
        "+١٥٥٥١٢٣٤٥٦٧",  # Arabic-Indic digits
        "",
    ],
)
def test_anything_else_is_refused_in_one_line_naming_the_field(value: str) -> None:
    with pytest.raises(DataError) as refused:
        parse(value, field="From")
    message = str(refused.value)
    assert message.startswith("From: not an E.164 phone number") and "\n" not in message
    assert not regex.search(r"[0-9]{5}", message.replace("15 digits", ""))  # never the number


def test_a_phone_number_is_masked_when_printed() -> None:
    number = parse("+15551234567", field="To")
    assert str(number) == "+•••••••••67"
    assert repr(number) == "PhoneNumber('+•••••••••67')"
    assert f"{number}" == "+•••••••••67"
    with pytest.raises(DataError, match=r"^e164: not an E\.164"):
        PhoneNumber("5551234567")


def test_mask_hides_all_but_the_last_two_digits() -> None:
    assert mask("+15551234567") == "+•••••••••67"
    assert mask(parse("+447700900123")) == "+••••••••••23"
    assert mask("12345") == "•••••"  # no E.164 number: hidden whole
    assert mask("whatsapp:+15551234567") == "whatsapp:+•••••••••67"


def test_masked_in_free_text() -> None:
    text = "to=+15551234567 from=%2B15557654321 'x+447700900123' sid=SM123 +1234567 id=15551234567"
    assert masked_in(text) == (
        "to=+•••••••••67 from=%2B•••••••••21 'x+••••••••••23' sid=SM123 +1234567 id=15551234567"
    )
    assert masked_in("+12345678901234567890") == "+" + "•" * 18 + "90"  # too long: hidden too


@given(st.text(max_size=200), st.from_regex(r"\A\+[1-9][0-9]{7,14}\Z"), st.text(max_size=200))
def test_no_number_survives_masked_in(before: str, number: str, after: str) -> None:
    masked = masked_in(before + number + after)
    assert number not in masked
    assert number[1:-2] not in masked.replace(before, "", 1)  # its hidden digits are gone
    assert masked_in(masked) == masked  # masking twice changes nothing


@given(st.text(max_size=300))
def test_parse_and_masks_never_raise_but_data_error(text: str) -> None:
    with contextlib.suppress(DataError):
        assert parse(text).e164 == text
    masked_in(text)
    mask(text)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_logs_mask_every_number(log_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", log_format)
    log = logging.getLogger("socialbot.sms.test")
    log.info("event=sms from=%s", "+15551234567")
    log.info("event=request body=%r", b"From=%2B15551234567&Body=pothole")
    log.info("event=number number=%s", parse("+15551234567"))
    try:
        raise ValueError("Twilio said no to +15551234567")
    except ValueError:
        log.exception("event=send_failed")
    written = capsys.readouterr().err
    assert "5551234567" not in written and "555123" not in written
    lines = written.splitlines()
    if log_format == "json":
        assert json.loads(lines[0])["from"] == "+•••••••••67"
        lines = [json.loads(line)["message"] for line in lines]
    assert "from=+•••••••••67" in lines[0]
    # Masked inside the bytes before %r spells them: the bullets' UTF-8, escaped, as bytes are.
    assert "From=%2B" + "\\xe2\\x80\\xa2" * 9 + "67&Body" in lines[1]
    assert "number=+•••••••••67" in lines[2]
    assert "Twilio said no to +•••••••••67" in written
