"""`socialbot demo`: the real pipeline over shipped sample mentions, no credentials needed.

The city of the demo is on two networks. Its X sample is a list of X API v2 mentions-timeline
pages (`mentions.json`, exact wire shape) for a demo account in Boston, covering every intake
branch, two neighbours reporting a pothole that is already a case among them; its Mastodon sample
(`mastodon.json`) is pages of `GET /api/v1/notifications` as a server serves them: HTML content,
a photo with its description, a direct mention, a content warning. Each is parsed by its own
network's wire code. The demo polls both into a fresh database as if they arrived a week ago,
"posts" the replies to each network's replay, in each resident's own thread on their own
network, and polls once more to show that nothing repeats.
Then staff work that week (`STAFF_WEEK`, simulated, through the same `Staff.act` the CLI uses),
so that `socialbot report` has a week of real figures to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from socialbot.app import Service, build_service, utc_now
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.districts import DEMO_DISTRICTS
from socialbot.lifecycle import Action, CloseReason
from socialbot.network_settings import Channel
from socialbot.networks.bluesky.replay import BlueskyReplay
from socialbot.networks.mastodon.replay import MastodonReplay
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import SendReport, send_once
from socialbot.poller import PollReport, poll_once
from socialbot.staff import Done, Request

SAMPLE = Path(__file__).resolve().parent / "mentions.json"
MASTODON_SAMPLE = Path(__file__).resolve().parent / "mastodon.json"
BLUESKY_SAMPLE = Path(__file__).resolve().parent / "bluesky.json"
DEMO_USER_ID = "1583000000000000001"
DEMO_MASTODON_ID = "113400000000000001"
DEMO_BLUESKY_ID = "did:plc:democityboston3llqzkpfxa"
# Boston's bounding box, so the sample's report from Providence shows the outside-city reply.
DEMO_CITY_BOUNDS = "-71.191155,42.227926,-70.986078,42.399974"
# The sample's posts carry a fixed date; a first poll must not take them for old news.
DEMO_SETTINGS: dict[str, object] = {
    "city_bounds": DEMO_CITY_BOUNDS,
    "backfill_hours": 24 * 365 * 100,
    "x_user_id": DEMO_USER_ID,
    "mastodon_user_id": DEMO_MASTODON_ID,
    "districts": DEMO_DISTRICTS,
    "timezone": "America/New_York",
    "holidays_subdivision": "MA",
}
# The sample arrives this long before now: inside `socialbot report --since 7d`.
ARRIVED_AGO = timedelta(days=6, hours=23)
STAFF = "demo crew"
_H = timedelta(hours=1)
# A week of a 311 crew's work on the sample's cases (hours after they arrived, case, action).
STAFF_WEEK: tuple[tuple[timedelta, int, Action, CloseReason | None], ...] = (
    *((2 * _H, case, Action.ACK, None) for case in (1, 2, 4, 6, 7, 8, 9)),
    (5 * _H, 4, Action.RESOLVE, None),  # the downed tree: cleared the same day
    (26 * _H, 1, Action.START, None),
    (29 * _H, 1, Action.RESOLVE, None),  # the pothole three neighbours reported
    (50 * _H, 7, Action.RESOLVE, None),
    (74 * _H, 6, Action.START, None),
    (120 * _H, 2, Action.RESOLVE, None),
    (140 * _H, 9, Action.CLOSE, CloseReason.NOT_CITY_PROPERTY),
    (3 * _H, 10, Action.ACK, None),  # the broken sidewalk reported on Mastodon: told there
    (98 * _H, 10, Action.RESOLVE, None),
    (4 * _H, 13, Action.ACK, None),  # the streetlight reported on Bluesky, with its photo
    (52 * _H, 13, Action.RESOLVE, None),
)


@dataclass(frozen=True, slots=True)
class DemoRun:
    service: Service
    platform: ReplayPlatform  # X
    mastodon: MastodonReplay
    bluesky: BlueskyReplay
    first: dict[str, PollReport]  # each network's first poll, by its name
    sent: SendReport  # the replies to that intake, every network's
    second: dict[str, PollReport]
    week: list[tuple[datetime, Done]]  # staff's actions, when
    status_sent: SendReport  # the residents' replies those actions queued


def run_demo(
    settings: Settings, now: Callable[[], datetime] = utc_now, *, staff_week: bool = True
) -> DemoRun:
    """Intake of the sample, a week ago; then, with `staff_week`, the crew's week up to now."""
    platform = ReplayPlatform.from_file(SAMPLE, DEMO_USER_ID)
    mastodon = MastodonReplay.from_file(MASTODON_SAMPLE, DEMO_MASTODON_ID)
    bluesky = BlueskyReplay.from_file(BLUESKY_SAMPLE, DEMO_BLUESKY_ID)
    arrived = now() - ARRIVED_AGO if staff_week else now()
    service = build_service(
        settings,
        clock=lambda: arrived,
        networks={
            Channel(platform.name, INTAKE_ACCOUNT): platform,
            Channel(mastodon.name, INTAKE_ACCOUNT): mastodon,
            Channel(bluesky.name, INTAKE_ACCOUNT): bluesky,
        },
    )
    first = {i.platform.name: poll_once(i, service.clock) for i in service.intakes}
    sent = _send_all(service, service.clock)
    second = {i.platform.name: poll_once(i, service.clock) for i in service.intakes}
    staff = service.staff
    week: list[tuple[datetime, Done]] = []
    for after, case, action, reason in STAFF_WEEK if staff_week else ():
        at = arrived + after
        week.append((at, staff.act(Request(case, action, STAFF, reason=reason), at)))
    status_sent = _send_all(service, now)
    return DemoRun(service, platform, mastodon, bluesky, first, sent, second, week, status_sent)


def _send_all(service: Service, now: Callable[[], datetime]) -> SendReport:
    """Every network's queue sent once; the figures added up."""
    total = SendReport()
    for outbox in service.outboxes:
        report = send_once(outbox, now)
        total.sent += report.sent
        total.failed += report.failed
    return total
