"""Twilio's inbound requests as tests send them: a form, and its signature computed with the
`twilio` package for the URL Twilio was told to call."""

from __future__ import annotations

from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC_URL = "https://311.example.gov"
SID = "SM" + "0123456789abcdef" * 2
SENDER = "+16175550123"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def inbound_form(sid: str = SID, body: str = "#pothole on Main St") -> list[tuple[str, str]]:
    """An inbound SMS as Twilio posts it (fields as its docs list them, and some it adds)."""
    return [
        ("ToCountry", "US"),
        ("ToState", "MA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", "+16175550100"),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", "AC" + "a" * 32),
        ("From", SENDER),
        ("ApiVersion", "2010-04-01"),
    ]


def signature(form: list[tuple[str, str]], url: str, token: str = TOKEN) -> str:
    values: dict[str, list[str]] = {}
    for name, value in form:
        values.setdefault(name, []).append(value)
    return str(RequestValidator(token).compute_signature(url, _Multi(values)))


def signed(
    form: list[tuple[str, str]], query: str = "", token: str = TOKEN
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of `form` posted by Twilio to PUBLIC_URL's webhook (+ `query`)."""
    url = f"{PUBLIC_URL}/sms/twilio" + (f"?{query}" if query else "")
    return urlencode(form).encode(), {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature(form, url, token),
    }


class _Multi(dict[str, list[str]]):
    def getlist(self, name: str) -> list[str]:
        return self[name]
