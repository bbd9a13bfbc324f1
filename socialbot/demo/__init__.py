"""`socialbot demo`: the real pipeline over shipped sample mentions, no credentials needed.

The sample is a list of X API v2 mentions-timeline pages (`mentions.json`, exact wire shape) for a
demo account in Boston, covering every intake branch. The demo polls it into a fresh database,
"posts" the replies to the replay platform, and polls once more to show that nothing repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.outbox import SendReport, send_once
from socialbot.platforms.replay import ReplayPlatform
from socialbot.poller import PollReport, poll_once

SAMPLE = Path(__file__).resolve().parent / "mentions.json"
DEMO_USER_ID = "1583000000000000001"
# Boston's bounding box, so the sample's report from Providence shows the outside-city reply.
DEMO_CITY_BOUNDS = "-71.191155,42.227926,-70.986078,42.399974"
# The sample's posts carry a fixed date; a first poll must not take them for old news.
DEMO_SETTINGS: dict[str, object] = {
    "city_bounds": DEMO_CITY_BOUNDS,
    "backfill_hours": 24 * 365 * 100,
    "x_user_id": DEMO_USER_ID,
}


@dataclass(frozen=True, slots=True)
class DemoRun:
    service: Service
    platform: ReplayPlatform
    first: PollReport
    sent: SendReport
    second: PollReport


def run_demo(settings: Settings) -> DemoRun:
    platform = ReplayPlatform.from_file(SAMPLE, DEMO_USER_ID)
    service = build_service(settings, platform=platform)
    first = poll_once(service.intake, service.clock, user_id=DEMO_USER_ID)
    sent = send_once(service.outbox, service.clock)
    second = poll_once(service.intake, service.clock, user_id=DEMO_USER_ID)
    return DemoRun(service, platform, first, sent, second)
