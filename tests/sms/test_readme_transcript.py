"""The README's conversation by text, replayed: each resident's text recorded as the webhook
records it, read by the service `socialbot run` builds from the README's settings
(`SOCIALBOT_CITY_NAME=Boston 311`, the demo districts, Twilio's three), and each reply what
Twilio's `POST Messages.json` was asked to send, which must be the transcript's line exactly.

Run with `-s` to see the conversation as replayed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import responses

from socialbot.app import build_service
from socialbot.scheduler import Jobs
from socialbot.sms.inbound import InboundText, read_form
from socialbot.sms.record import record
from tests.conftest import Clock
from tests.networks.sms import server as twilio
from tests.sms.texting import CITY_NAME, DISTRICTS, form
from tests.sms_city import SimulatedSleep, sms_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_transcript() -> str:
    """The README's SMS conversation: the block between its `sms-transcript` markers."""
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- sms-transcript -->"), text.index("<!-- /sms-transcript -->")
    return text[start:end]


TRANSCRIPT = _readme_transcript()

_TEXT = re.compile(r"^\s*resident (\d+) > (.*)$")
_REPLY = re.compile(r"^\s*socialbot < (.*)$")
NO_REPLY = "(no reply)"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One text of a resident and the replies it got, oldest first."""

    resident: int
    text: str
    replies: tuple[str, ...]


def exchanges(document: str) -> list[Exchange]:
    """The transcript's exchanges, wherever its lines are in `document` (the README's fenced
    block): every other line is ignored."""
    found: list[Exchange] = []
    for line in document.splitlines():
        if said := _TEXT.match(line):
            found.append(Exchange(int(said.group(1)), said.group(2), ()))
        elif (answer := _REPLY.match(line)) and found:
            last = found[-1]
            replies = last.replies if answer.group(1) == NO_REPLY else (*last.replies, answer[1])
            found[-1] = Exchange(last.resident, last.text, replies)
    return found


def test_the_transcript_reads_as_thirteen_exchanges_of_two_residents() -> None:
    read = exchanges(TRANSCRIPT)
    assert len(read) == 13 and {e.resident for e in read} == {1, 2}
    assert [e.replies for e in read if e.text in ("STOP", "HELP")][1:] == [(), ()]
    assert all(len(e.replies) <= 1 for e in read)


@pytest.fixture
def texted(clock: Clock) -> Iterator[twilio.TwilioServer]:
    made = twilio.TwilioServer(clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        made.serve(mock)
        yield made


def test_the_readme_conversation_gets_the_readmes_replies_exactly(
    database_url: str, clock: Clock, texted: twilio.TwilioServer
) -> None:
    expected = exchanges(TRANSCRIPT)
    settings = sms_settings(database_url, city_name=CITY_NAME, districts=DISTRICTS)
    service = build_service(settings, clock=clock, sleep=SimulatedSleep(clock))
    jobs = Jobs(service)
    replayed: list[Exchange] = []
    try:
        for n, exchange in enumerate(expected, start=1):
            before = len(texted.sent)
            inbound = read_form(form(n, exchange.resident, exchange.text))
            assert isinstance(inbound, InboundText), inbound
            assert record(service.engine, inbound, clock())
            jobs.poll()
            jobs.send()
            got = texted.sent[before:]
            assert {m["to"] for m in got} <= {twilio.resident(exchange.resident)}
            replayed.append(
                Exchange(exchange.resident, exchange.text, tuple(m["body"] for m in got))
            )
            clock.advance(seconds=30)
    finally:
        jobs.release_locks()
        service.close()

    print()
    for exchange in replayed:
        print(f"resident {exchange.resident} > {exchange.text}")
        for reply in exchange.replies or (NO_REPLY,):
            print(f"  socialbot < {reply}")
    assert replayed == expected
