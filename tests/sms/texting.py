"""A city that converses by text, end to end: residents' texts arrive by the webhook's own path
(Twilio's form read by `sms.inbound.read_form`, recorded by `sms.record.record`), intake reads
them through the SMS adapter (`poll_once`, rules with `converses`), and our replies go to
Twilio's REST API over `responses` (`tests/networks/sms/server.py`) through the outbox."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import responses
from sqlalchemy import Engine

from socialbot.app import load_content, make_staff
from socialbot.catalog import load_catalog
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.districts import Districts, load_districts
from socialbot.ingest.context import Intake, PollReport
from socialbot.intake import IntakeRules
from socialbot.networks.sms.adapter import SMS_MEDIA, SmsNetwork, TwilioCredentials
from socialbot.outbox import Outbox, SendReport, send_once
from socialbot.poller import poll_once
from socialbot.sms.inbound import InboundText, read_form
from socialbot.sms.record import record
from socialbot.sms.rules import SMS_TEXT
from socialbot.staff import Staff
from tests.conftest import Clock
from tests.networks.sms import server as twilio

ROOT = Path(__file__).resolve().parents[2]
DISTRICTS = ROOT / "socialbot" / "data" / "districts-demo.geojson"
CITY_NAME = "Boston 311"


def districts() -> Districts:
    return load_districts(
        DISTRICTS,
        known_categories={c.key for c in load_catalog(ROOT / "hashtags.yaml").categories},
    )


def form(
    n: int,
    sender: int,
    body: str,
    media: Sequence[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """Twilio's form of text `n` (its own MessageSid) from resident `sender`, with MMS media
    as (URL, content type)."""
    sid = twilio.inbound_sid(n)
    fields = [
        (key, sid if key in ("MessageSid", "SmsSid", "SmsMessageSid") else value)
        for key, value in twilio.inbound_form(sender, body)
        if key != "NumMedia"
    ]
    fields.append(("NumMedia", str(len(media))))
    for index, (url, kind) in enumerate(media):
        fields += [(f"MediaUrl{index}", url), (f"MediaContentType{index}", kind)]
    return fields


PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200  # a JPEG's first bytes
_MEDIA = re.compile(
    re.escape(f"https://api.twilio.com/2010-04-01/Accounts/{twilio.ACCOUNT_SID}/Messages/")
    + r"\w+/Media/\w+"
)


def media_url(n: int) -> str:
    """The address of photo `n` of an MMS to our account, as Twilio's MediaUrl{N} gives it."""
    return (
        f"https://api.twilio.com/2010-04-01/Accounts/{twilio.ACCOUNT_SID}/Messages/"
        f"MM{n:032x}/Media/ME{n:032x}"
    )


@dataclass
class TextingCity:
    settings: Settings
    engine: Engine
    clock: Clock
    server: twilio.TwilioServer = field(init=False)
    network: SmsNetwork = field(init=False)
    intake: Intake = field(init=False)
    outbox: Outbox = field(init=False)
    staff: Staff = field(init=False)
    texts: int = 0

    def __post_init__(self) -> None:
        self.server = twilio.TwilioServer(clock=self.clock)
        self.network = SmsNetwork(
            TwilioCredentials(twilio.ACCOUNT_SID, twilio.AUTH_TOKEN, twilio.CITY_NUMBER),
            self.engine,
            clock=self.clock,
            media_dir=self.settings.media_dir,
        )
        catalog, replies, bounds = load_content(self.settings)
        self.rules = IntakeRules(
            catalog=catalog,
            own_user_id=twilio.CITY_NUMBER,
            bounds=bounds,
            districts=districts(),
            converses=True,
        )
        self.intake = Intake(
            engine=self.engine,
            platform=self.network,
            replies=replies,
            rules_for=lambda _own: self.rules,
            user_id=twilio.CITY_NUMBER,
            city_name=CITY_NAME,
        )
        self.outbox = Outbox(
            engine=self.engine,
            platform=self.network,
            user_id=lambda: twilio.CITY_NUMBER,
            account=INTAKE_ACCOUNT,
        )
        staff = make_staff(self.settings, self.engine, catalog, replies)
        self.staff = Staff(
            engine=self.engine,
            catalog=catalog,
            replies=replies,
            notify=staff.notify,
            media_dir=staff.media_dir,
            text_rules={**staff.text_rules, "sms": SMS_TEXT},
            media_rules={**staff.media_rules, "sms": SMS_MEDIA},
        )

    def text(self, sender: int, body: str, media: Sequence[tuple[str, str]] = ()) -> str:
        """Resident `sender` texts `body`: recorded as the webhook records it. Its SID."""
        self.texts += 1
        inbound = read_form(form(self.texts, sender, body, media))
        assert isinstance(inbound, InboundText), inbound
        assert record(self.engine, inbound, self.clock())
        return inbound.message_sid

    def poll(self) -> PollReport:
        return poll_once(self.intake, self.clock)

    def send(self) -> SendReport:
        return send_once(self.outbox, self.clock)

    def replies_to(self, sender: int) -> list[str]:
        """What Twilio was asked to text to resident `sender`, oldest first."""
        number = twilio.resident(sender)
        return [m["body"] for m in self.server.sent if m["to"] == number]

    def converse(self, sender: int, body: str) -> list[str]:
        """Text `body`, let intake and the outbox run; the replies it got."""
        before = len(self.replies_to(sender))
        self.text(sender, body)
        self.poll()
        self.send()
        return self.replies_to(sender)[before:]

    @contextmanager
    def running(self) -> Iterator[None]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            self.server.serve(mock)
            # An MMS's photo, as Twilio serves one of our account's media to its credentials.
            mock.add(responses.GET, _MEDIA, body=PHOTO, content_type="image/jpeg")
            yield
