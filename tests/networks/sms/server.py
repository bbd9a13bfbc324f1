"""Twilio's REST API for texts over `responses`, in its wire format: `POST Messages.json` (a
form: To, From or MessagingServiceSid, Body) answered with the message resource, `GET
Messages.json?To=&From=` answered with a page of them, newest first, and its error bodies
(`{"code", "message", "more_info", "status"}`), as Twilio's API reference and twilio-python's
tests show them. Inbound texts arrive as Twilio posts them to the webhook (`inbound_form`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
import responses
from requests import PreparedRequest

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "b7f3c1d2e4a5968778695a4b3c2d1e0f"
CITY_NUMBER = "+16175550100"
SERVICE_SID = "MG" + "fedcba9876543210" * 2
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

Answer = tuple[int, dict[str, str], str]


def resident(n: int) -> str:
    return f"+1617555{2000 + n:04d}"


def inbound_sid(n: int) -> str:
    return f"SM{n:032x}"


def inbound_form(n: int, text: str, *, to: str = CITY_NUMBER) -> list[tuple[str, str]]:
    """The form Twilio posts for resident `n`'s text, its fields in Twilio's order."""
    sid = inbound_sid(n)
    return [
        ("ToCountry", "US"),
        ("ToState", "MA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ToCity", "BOSTON"),
        ("FromZip", "02116"),
        ("SmsSid", sid),
        ("FromState", "MA"),
        ("SmsStatus", "received"),
        ("FromCity", "BOSTON"),
        ("Body", text),
        ("FromCountry", "US"),
        ("To", to),
        ("ToZip", "02108"),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", resident(n)),
        ("ApiVersion", "2010-04-01"),
    ]


def message(
    sid: str,
    to: str,
    body: str,
    at: datetime,
    *,
    sender: str = CITY_NUMBER,
    service: str | None = None,
    status: str = "queued",
) -> dict[str, Any]:
    """A message resource as Twilio answers a send (`date_sent` null until the carrier took
    it; `from` null when a Messaging Service has not picked a number yet)."""
    when = format_datetime(at)
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": when,
        "date_sent": None if status == "queued" else when,
        "date_updated": when,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": None if service and status == "accepted" else sender,
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"
        },
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def error(status: int, code: int, text: str) -> str:
    return json.dumps(
        {
            "code": code,
            "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    )


DOWN = (503, {}, error(503, 20503, "Service Unavailable"))
LIMITED = (429, {}, error(429, 20429, "Too Many Requests"))


@dataclass
class TwilioServer:
    """What we texted (each message resource, oldest first) and scripted failures of the next
    POSTs: "lost" (taken, then the answer never came back), "down" (a 503, nothing taken),
    "limited" (a 429 with Twilio's 20429 body), or any `Answer` to send instead."""

    clock: Callable[[], datetime]
    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str | Answer] = field(default_factory=list)
    posted_forms: list[dict[str, list[str]]] = field(default_factory=list)

    def serve(self, mock: responses.RequestsMock) -> None:
        mock.add_callback("POST", MESSAGES_URL, self._post)
        mock.add_callback("GET", MESSAGES_URL, self._list)

    def _post(self, request: PreparedRequest) -> Answer:
        body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
        form = parse_qs(body, keep_blank_values=True)
        self.posted_forms.append(form)
        kind = self.failures.pop(0) if self.failures else None
        if kind == "down":
            return DOWN
        if kind == "limited":
            return LIMITED
        if isinstance(kind, tuple):
            return kind
        service = form.get("MessagingServiceSid", [None])[0]
        sent = message(
            f"SM{0xBEEF0000 + len(self.sent):032x}",
            form["To"][0],
            form["Body"][0],
            self.clock(),
            sender=form.get("From", [CITY_NUMBER])[0],
            service=service,
        )
        self.sent.append(sent)
        if kind == "lost":
            raise requests.exceptions.ReadTimeout("the answer was lost")
        return 201, {}, json.dumps(sent)

    def _list(self, request: PreparedRequest) -> Answer:
        query = parse_qs(urlparse(request.url or "").query)
        to = query.get("To", [None])[0]
        sender = query.get("From", [None])[0]
        found = [
            m
            for m in reversed(self.sent)
            if (to is None or m["to"] == to) and (sender is None or m["from"] == sender)
        ]
        uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        return (
            200,
            {},
            json.dumps(
                {
                    "end": max(len(found) - 1, 0),
                    "first_page_uri": f"{uri}?PageSize=50&Page=0",
                    "messages": found,
                    "next_page_uri": None,
                    "page": 0,
                    "page_size": 50,
                    "previous_page_uri": None,
                    "start": 0,
                    "uri": f"{uri}?PageSize=50&Page=0",
                }
            ),
        )
