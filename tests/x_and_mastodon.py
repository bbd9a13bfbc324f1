"""A city on X and Mastodon, for the tests that follow one report across both: X answers one
page with the post given, Mastodon replays the demo's timeline (or one made from it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from socialbot.app import Service, build_service
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.network_settings import Channel
from socialbot.networks.mastodon.replay import MastodonReplay
from socialbot.networks.x.replay import ReplayPlatform
from tests import xapi
from tests.conftest import Clock

SAMPLE = Path(__file__).resolve().parents[1] / "socialbot" / "demo" / "mastodon.json"
MASTODON_CITY = "113400000000000001"


def demo_timeline() -> Any:
    """The demo's Mastodon timeline, as its replay reads it."""
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@contextmanager
def x_and_mastodon(
    settings: Settings, clock: Clock, x_post: str, timeline: Any | None = None
) -> Iterator[Service]:
    """The service over both networks: on X the one post `x_post` (id 1), on Mastodon
    `timeline` (the demo's unless given)."""
    x = ReplayPlatform(xapi.CITY_ID, [xapi.page([xapi.tweet(1, x_post)])])
    mastodon = MastodonReplay(MASTODON_CITY, demo_timeline() if timeline is None else timeline)
    service = build_service(
        settings,
        clock=clock,
        networks={Channel("x", INTAKE_ACCOUNT): x, Channel("mastodon", INTAKE_ACCOUNT): mastodon},
    )
    try:
        yield service
    finally:
        service.close()
