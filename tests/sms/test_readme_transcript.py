"""The README's conversation by text, replayed: each resident's text recorded as the webhook
records it, read by the service `socialbot run` builds from the README's settings
(`SOCIALBOT_CITY_NAME=Boston 311`, the demo districts, Twilio's three), and each reply what
Twilio's `POST Messages.json` was asked to send, which must be the transcript's line exactly.

Run with `-s` to see the conversation as replayed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

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

# The README's transcript, as the sms-conversation branch proposed it for its SMS section.
TRANSCRIPT = """\
resident 1 > HELP
  socialbot < Boston 311: text us a problem with a photo and where it is to open a case. Text STATUS for your case, ALERTS for city alerts. Reply STOP to stop.
resident 1 > there's a huge hole on my street
  socialbot < What is the problem? Reply 1 Pothole, 2 Streetlight out, 3 Sidewalk repair, 4 Missed trash pickup, 5 Graffiti, 6 Downed tree or limb. Or text HELP.
resident 1 > 1
  socialbot < Thanks! We opened case #1 (Pothole) but need to know where it is. Please reply here with a map link or pin, or the coordinates, so the crew can find it.
resident 1 > 42.3601, -71.0589
  socialbot < Thanks! Your report is filed as case #1 (Pothole). We'll reply here when the crew has fixed it.
resident 1 > STATUS
  socialbot < Case #1 (Pothole) is received and waiting for the crew. Thanks for checking in!
resident 1 > ALERTS Dorchester
  socialbot < You will get Boston 311 alerts for Dorchester. Text ALERTS with another district to change it. Reply STOP to stop.
resident 1 > STOP
  socialbot < (no reply)
resident 1 > HELP
  socialbot < (no reply)
resident 1 > START
  socialbot < Boston 311: you will get our texts again. Text ALERTS for city alerts, HELP for help. Reply STOP to stop.
resident 2 > AYUDA
  socialbot < Boston 311: envíe un problema con una foto y dónde está para abrir un caso. ESTADO para su caso, ALERTAS para avisos. Responda STOP para no recibir más.
resident 2 > bache
  socialbot < ¡Gracias! Abrimos el caso #2 (Bache), pero necesitamos saber dónde está. Responda aquí con un enlace de mapa, un pin o las coordenadas para que el equipo lo encuentre.
resident 2 > 42.3523, -71.0552
  socialbot < ¡Gracias! Su reporte quedó registrado como caso #2 (Bache). Le responderemos aquí cuando el equipo lo haya resuelto.
resident 2 > ALERTAS Springfield
  socialbot < No conocemos ese distrito. Los nuestros: Charlestown, Downtown, Back Bay, Allston-Brighton, Roxbury, Dorchester. Envíe ALERTAS y un distrito, o ALERTAS solo para toda la ciudad.
"""  # noqa: E501

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
    block, or the constant above): every other line is ignored."""
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
