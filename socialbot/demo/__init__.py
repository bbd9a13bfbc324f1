"""`socialbot demo`: the real pipeline over shipped sample mentions, no credentials needed.

The sample is a list of X API v2 mentions-timeline pages (`mentions.json`, exact wire shape) for a
demo account in Boston, covering every intake branch, two neighbours reporting a pothole that is
already a case among them. The demo polls it into a fresh database as if it arrived a week ago,
"posts" the replies to the replay platform, and polls once more to show that nothing repeats.
Then staff work that week (`STAFF_WEEK`, simulated, through the same `Staff.act` the CLI uses),
so that `socialbot report` has a week of real figures to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from socialbot.app import Service, build_service, media_rules, text_rules, utc_now
from socialbot.config import Settings
from socialbot.districts import DEMO_DISTRICTS
from socialbot.lifecycle import Action, CloseReason
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import SendReport, send_once
from socialbot.poller import PollReport, poll_once
from socialbot.staff import Done, Request, Staff

SAMPLE = Path(__file__).resolve().parent / "mentions.json"
DEMO_USER_ID = "1583000000000000001"
# Boston's bounding box, so the sample's report from Providence shows the outside-city reply.
DEMO_CITY_BOUNDS = "-71.191155,42.227926,-70.986078,42.399974"
# The sample's posts carry a fixed date; a first poll must not take them for old news.
DEMO_SETTINGS: dict[str, object] = {
    "city_bounds": DEMO_CITY_BOUNDS,
    "backfill_hours": 24 * 365 * 100,
    "x_user_id": DEMO_USER_ID,
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
)


@dataclass(frozen=True, slots=True)
class DemoRun:
    service: Service
    platform: ReplayPlatform
    first: PollReport
    sent: SendReport
    second: PollReport
    week: list[tuple[datetime, Done]]  # staff's actions, when
    status_sent: SendReport  # the residents' replies those actions queued


def run_demo(
    settings: Settings, now: Callable[[], datetime] = utc_now, *, staff_week: bool = True
) -> DemoRun:
    """Intake of the sample, a week ago; then, with `staff_week`, the crew's week up to now."""
    platform = ReplayPlatform.from_file(SAMPLE, DEMO_USER_ID)
    arrived = now() - ARRIVED_AGO if staff_week else now()
    service = build_service(settings, platform=platform, clock=lambda: arrived)
    first = poll_once(service.intake, service.clock, user_id=DEMO_USER_ID)
    sent = send_once(service.outbox, service.clock)
    second = poll_once(service.intake, service.clock, user_id=DEMO_USER_ID)
    staff = Staff(
        engine=service.engine,
        catalog=service.catalog,
        replies=service.replies,
        notify=settings.notify_statuses,
        media_dir=settings.media_dir,
        text_rules=text_rules(settings),
        media_rules=media_rules(settings),
    )
    week: list[tuple[datetime, Done]] = []
    for after, case, action, reason in STAFF_WEEK if staff_week else ():
        at = arrived + after
        week.append((at, staff.act(Request(case, action, STAFF, reason=reason), at)))
    status_sent = send_once(service.outbox, now)
    return DemoRun(service, platform, first, sent, second, week, status_sent)
