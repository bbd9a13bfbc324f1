"""A city whose reports are already filed and answered, for tests that start from there."""

from __future__ import annotations

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.outbox import send_once
from socialbot.platforms.replay import ReplayPlatform
from socialbot.poller import poll_once
from tests import xapi
from tests.conftest import Clock


def filed(settings: Settings, clock: Clock, platform: ReplayPlatform) -> Service:
    """Poll the platform's queued pages and send the filed replies; forget what was posted."""
    service = build_service(
        settings.model_copy(update={"x_user_id": xapi.CITY_ID}), platform, clock
    )
    poll_once(service.intake, clock)
    send_once(service.outbox, clock)
    platform.posted.clear()
    return service
