"""Issue 18's "Done when", as the README tells it: a resident texts a report with a photo and an
address, gets "filed" and later "resolved" by text, subscribes to their neighbourhood's alerts
and stops them with one word; a comms officer sends one alert to X, Mastodon, Bluesky and the
SMS subscribers with one command.

Everything is the real thing but the far ends: the texts arrive signed at `POST /sms/twilio`
(the web app in-process), the service is the one `socialbot run` builds from the settings and
its jobs run as the scheduler runs them (`Jobs.poll`, `Jobs.send`), staff and comms use the
`socialbot` command. Each API is mocked at the HTTP level in its wire format: Twilio's REST API
and an MMS's media (`tests/networks/sms/server.py`), Nominatim's `/search`, X API v2 and
Mastodon over `responses`, Bluesky's PDS over `respx`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
import respx
from sqlmodel import col, select

from socialbot.app import Service, build_service
from socialbot.config import load_settings
from socialbot.domain import CaseStatus
from socialbot.scheduler import Jobs
from socialbot.store.db import transaction
from socialbot.store.models import Case, ConsentAction, ConsentEvent, Subscription
from socialbot.web.app import create_app
from socialbot.web.server import build_web
from tests import xapi
from tests.cli.run import invoke
from tests.conftest import Clock
from tests.geocoding.answers import nominatim_house
from tests.networks.harness import BlueskyHarness, MastodonHarness, XHarness
from tests.networks.sms import server as twilio
from tests.sms.texting import PHOTO, form, media_url
from tests.sms_city import SimulatedSleep
from tests.test_three_networks import settings_of
from tests.web.sms import PUBLIC_URL, signed
from tests.web.test_sms_webhook import InProcess

ROOT = Path(__file__).resolve().parents[1]
NOMINATIM = "https://nominatim.example.org"
SEARCH = f"{NOMINATIM}/search"
CDN = f"https://mms.twiliocdn.com/{twilio.ACCOUNT_SID}/b7e1c0d4?Expires=1&Signature=sig"
# 123 Main St, as the mocked Nominatim places it: in the demo districts' Dorchester.
MAIN_ST = (42.3012, -71.0598)
RESIDENT, NEIGHBOUR = 1, 2  # Dorchester's resident; a Roxbury subscriber
REPORT = "#pothole big one at 123 Main St"
ALERT = "Water main break on Dorchester Ave: no water until 6 pm. Bottled water at the library."
SECOND_ALERT = "Water is back on Dorchester Ave. Run the cold tap for two minutes before use."


@dataclass
class Far:
    """The far ends: the social networks' servers, Twilio (what it was asked to text), and the
    texts' web hook."""

    x: XHarness
    mastodon: MastodonHarness
    bluesky: BlueskyHarness
    twilio: twilio.TwilioServer
    requests: responses.RequestsMock
    webhook: InProcess

    def public_posts(self) -> dict[str, list[str]]:
        return {
            "x": [text for text, _ in self.x.posts()],
            "mastodon": [text for text, _ in self.mastodon.posts()],
            "bluesky": [text for text, _ in self.bluesky.posts()],
        }

    def texts_to(self, n: int) -> list[str]:
        """What Twilio was asked to text to resident `n` (each POST Messages.json), oldest
        first."""
        number = twilio.resident(n)
        return [form["Body"][0] for form in self.twilio.posted_forms if form["To"] == [number]]


@contextmanager
def far_ends(clock: Clock, settings_env: dict[str, object]) -> Iterator[Far]:
    x, mastodon, bluesky = XHarness(clock), MastodonHarness(clock), BlueskyHarness(clock)
    texting = twilio.TwilioServer(clock=clock)
    web = build_web(load_settings(None, **settings_env))  # type: ignore[arg-type]
    try:
        # One `responses` mock for every API that speaks requests: two cannot be active at once.
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback("GET", xapi.MENTIONS_URL, x._mentions)
            mock.add_callback("POST", xapi.TWEETS_URL, x._post)
            mock.add_callback("GET", xapi.OWN_TWEETS_URL, x._own)
            mastodon.server.serve(mock)
            texting.serve(mock)
            with respx.mock(assert_all_called=False) as router:
                bluesky.server.serve(router)
                yield Far(x, mastodon, bluesky, texting, mock, InProcess(create_app(web)))
    finally:
        web.engine.dispose()
        if web.sms is not None:
            web.sms.dispose()


def settings_env(database_url: str, tmp_path: Path) -> dict[str, object]:
    """A city on X, Mastodon, Bluesky and SMS, with Nominatim and the demo districts."""
    return settings_of(database_url) | {
        "city_name": "Boston 311",
        "districts": ROOT / "socialbot" / "data" / "districts-demo.geojson",
        "media_dir": tmp_path / "media",
        "twilio_account_sid": twilio.ACCOUNT_SID,
        "twilio_auth_token": twilio.AUTH_TOKEN,
        "twilio_from": twilio.CITY_NUMBER,
        "web_public_url": PUBLIC_URL,
        "geocoder": "nominatim",
        "geocoder_url": NOMINATIM,
        "geocoder_user_agent": "socialbot-test (311@example.gov)",
        "geocoder_region": "Boston, MA",
        "geocoder_requests_per_second": 100.0,
        "city_bounds": "-71.19,42.22,-70.98,42.40",
    }


class Story:
    """The city's side: texts in by the webhook, the service's jobs, the `socialbot` command."""

    def __init__(self, far: Far, service: Service, clock: Clock) -> None:
        self.far = far
        self.service = service
        self.clock = clock
        self.jobs = Jobs(service)
        self.sent = 0

    def text(self, n: int, body: str, media: tuple[tuple[str, str], ...] = ()) -> None:
        """Resident `n` texts `body`: Twilio posts it, signed, to the webhook."""
        self.sent += 1
        content, headers = signed(form(self.sent, n, body, media), token=twilio.AUTH_TOKEN)
        answer = self.far.webhook.post("/sms/twilio", content, headers)
        assert answer.status_code == 200, answer.text

    def run_jobs(self) -> None:
        """The scheduler's next poll and send of every network. The commands run on the wall
        clock, the service on the test's: it is moved past the wall clock first, so what a
        command queued is due."""
        self.clock.now = max(self.clock.now, datetime.now(UTC)) + timedelta(seconds=1)
        self.jobs.poll()
        self.jobs.send()

    def converse(self, n: int, body: str, media: tuple[tuple[str, str], ...] = ()) -> list[str]:
        """Text `body`, let the service run: the texts it sent resident `n`."""
        before = len(self.far.texts_to(n))
        self.text(n, body, media)
        self.run_jobs()
        return self.far.texts_to(n)[before:]

    def command(self, *args: str) -> str:
        code, output = invoke(*args)
        assert code == 0, output
        return output

    def alert(self, text: str) -> str:
        output = self.command(
            "broadcast", "send", "--text", text, "--district", "Dorchester", "--yes"
        )
        self.run_jobs()  # `socialbot run` texts the subscribers at the sender's pace
        return output


@pytest.fixture
def story(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Story]:
    env = settings_env(database_url, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(f"SOCIALBOT_{name.upper()}", str(value))
    monkeypatch.setenv("COLUMNS", "80")  # the commands' output as a terminal shows it
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    with far_ends(clock, env) as far:
        service = build_service(load_settings(), clock=clock, sleep=SimulatedSleep(clock))
        story = Story(far, service, clock)
        try:
            yield story
        finally:
            story.jobs.release_locks()
            service.close()


def test_a_resident_texts_a_report_hears_filed_and_resolved_takes_alerts_and_stops_them(
    story: Story,
) -> None:
    far = story.far
    mock = far.requests
    # Twilio serves an MMS's photo to the account's credentials by a redirect to its CDN.
    mock.get(media_url(1), status=307, headers={"Location": CDN})
    mock.get(CDN, body=PHOTO, content_type="image/jpeg")
    mock.get(SEARCH, json=[nominatim_house(*MAIN_ST)])

    # 1. A report with a photo and an address: filed with both, "filed" texted back.
    [filed] = story.converse(RESIDENT, REPORT, media=((media_url(1), "image/jpeg"),))
    [case] = cases(story)
    assert case.id is not None
    assert f"case #{case.id}" in filed and "filed" in filed, filed
    assert (case.category, case.status) == ("pothole", CaseStatus.NEW)
    assert (case.address, case.lat, case.lon) == ("123 Main St", *MAIN_ST)
    assert (case.location_source, case.district) == ("address", "Dorchester")
    [photo] = case.photo_urls
    assert Path(photo).read_bytes() == PHOTO
    [asked] = [c.request for c in mock.calls if c.request.url.startswith(SEARCH)]
    assert asked.params["q"] == "123 Main St, Boston, MA"
    # The credentials went to Twilio's API alone, not along the redirect to its CDN.
    [media, cdn] = [
        c.request for c in mock.calls if "Media" in c.request.url or "cdn" in c.request.url
    ]
    assert "Authorization" in media.headers and "Authorization" not in cdn.headers

    # 2. Staff resolve it with the command: "resolved" texted back to the same number.
    story.command("cases", "resolve", str(case.id), "--note", "filled")
    story.run_jobs()
    [resolved] = far.texts_to(RESIDENT)[1:]
    assert resolved.startswith("Good news") and f"case #{case.id}" in resolved, resolved
    assert cases(story)[0].status is CaseStatus.RESOLVED

    # 3. Alerts for their neighbourhood, by one text; a neighbour takes another district's.
    [confirmed] = story.converse(RESIDENT, "ALERTS Dorchester")
    assert "Dorchester" in confirmed and "STOP" in confirmed
    [other] = story.converse(NEIGHBOUR, "ALERTS Roxbury")
    assert "Roxbury" in other
    assert subscriptions(story) == [
        (twilio.resident(RESIDENT), "Dorchester", None),
        (twilio.resident(NEIGHBOUR), "Roxbury", None),
    ]

    # 4. One command: one post on each network, one text to Dorchester's subscriber.
    shown = story.alert(ALERT)
    assert far.public_posts() == {"x": [ALERT], "mastodon": [ALERT], "bluesky": [ALERT]}
    [texted] = far.texts_to(RESIDENT)[3:]
    assert texted == ALERT  # as written: no link, nothing added
    assert far.texts_to(NEIGHBOUR) == [other]
    assert twilio.resident(RESIDENT) not in shown  # a number is never printed in full

    # 5. One word stops them: no answer to it, and the next alert texts no one.
    assert story.converse(RESIDENT, "STOP") == []
    assert consents(story) == [(ConsentAction.STOP, twilio.resident(RESIDENT))]
    story.alert(SECOND_ALERT)
    assert far.public_posts() == {
        "x": [ALERT, SECOND_ALERT],
        "mastodon": [ALERT, SECOND_ALERT],
        "bluesky": [ALERT, SECOND_ALERT],
    }
    assert far.texts_to(RESIDENT) == [filed, resolved, confirmed, texted]
    assert far.texts_to(NEIGHBOUR) == [other]
    assert [end for *_, end in subscriptions(story)] == ["stop", None]


def cases(story: Story) -> list[Case]:
    with transaction(story.service.engine) as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


def subscriptions(story: Story) -> list[tuple[str, str | None, str | None]]:
    with transaction(story.service.engine) as session:
        rows = session.exec(select(Subscription).order_by(col(Subscription.id))).all()
        return [(s.address, s.district, s.ended_reason) for s in rows]


def consents(story: Story) -> list[tuple[ConsentAction, str]]:
    with transaction(story.service.engine) as session:
        rows = session.exec(select(ConsentEvent).order_by(col(ConsentEvent.id))).all()
        return [(e.action, e.address) for e in rows]
