"""The webhook's signature check against Twilio's published request-validator vectors (written
from twilio/twilio-python's tests/unit/test_request_validator.py: its URL, form, token and
signatures), and against signatures we compute ourselves for the URL Twilio is told to call."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from socialbot.sms.signature import is_signed, signed_url

# Twilio's published case: a voice request, but the rule is the same for every webhook.
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
FORM = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]
SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilios_published_signature_checks() -> None:
    assert is_signed(TOKEN, URL, FORM, SIGNATURE)


def test_the_order_the_fields_come_in_does_not_matter() -> None:
    assert is_signed(TOKEN, URL, list(reversed(FORM)), SIGNATURE)


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        # Twilio signs with the port or without it: each is accepted either way.
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", SIGNATURE),
        (URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed as https://mycompany.com:443/…
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_twilios_published_ports_check(url: str, signature: str) -> None:
    assert is_signed(TOKEN, url, FORM, signature)


def test_a_repeated_field_is_signed_with_each_of_its_values() -> None:
    form = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert is_signed(TOKEN, URL, form, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    assert not is_signed(TOKEN, URL, form[:3], "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


@pytest.mark.parametrize(
    ("token", "url", "form", "signature"),
    [
        ("54321", URL, FORM, SIGNATURE),  # another account's token
        (TOKEN, URL.replace("foo=1", "foo=2"), FORM, SIGNATURE),  # another query
        (TOKEN, URL.replace("https://", "https://evil."), FORM, SIGNATURE),  # another host
        (TOKEN, URL, [*FORM[:-1], ("Caller", "+14158675300")], SIGNATURE),  # a changed field
        (TOKEN, URL, [*FORM, ("Body", "")], SIGNATURE),  # an added field
        (TOKEN, URL, FORM, SIGNATURE.lower()),
        (TOKEN, URL, FORM, SIGNATURE[:-1]),
        (TOKEN, URL, FORM, ""),
        (TOKEN, URL, FORM, None),
    ],
)
def test_anything_else_fails(
    token: str, url: str, form: list[tuple[str, str]], signature: str | None
) -> None:
    assert not is_signed(token, url, form, signature)


def test_the_signed_url_is_the_public_one_with_the_path_and_the_query_as_it_came() -> None:
    assert signed_url("https://311.example.gov", "") == "https://311.example.gov/sms/twilio"
    assert (
        signed_url("https://311.example.gov/city", "a=1&b=%2B1")
        == "https://311.example.gov/city/sms/twilio?a=1&b=%2B1"
    )


form_pairs = st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=8)


@given(form=form_pairs, query=st.sampled_from(["", "x=1", "a=%20&b"]))
def test_our_own_signature_checks_and_a_changed_value_does_not(
    form: list[tuple[str, str]], query: str
) -> None:
    url = signed_url("https://311.example.gov", query)
    try:
        signature = RequestValidator(TOKEN).compute_signature(url, _multi(form))
    except UnicodeEncodeError:  # a lone surrogate: no request can carry it, nor be signed
        assert not is_signed(TOKEN, url, form, "anything")
        return
    assert is_signed(TOKEN, url, form, signature)
    assert not is_signed(TOKEN, url + "&extra", form, signature)
    assert not is_signed(TOKEN, url, [*form, ("NewTwilioField", "\x00x")], signature)


class _multi(dict[str, list[str]]):
    """The form as twilio's own tests hand it over (a multi-valued mapping)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        for name, value in pairs:
            self.setdefault(name, []).append(value)

    def getlist(self, name: str) -> list[str]:
        return self[name]
