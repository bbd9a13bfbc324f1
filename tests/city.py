"""A city whose reports are already filed and answered, for tests that start from there."""

from __future__ import annotations

from datetime import datetime

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import send_once
from socialbot.poller import poll_once
from socialbot.store.models import OutboxMessage
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


def queued_reply(n: int, at: datetime, template: str = "filed") -> OutboxMessage:
    """The intake account's reply to post `n`, queued at `at`, as intake queues it."""
    return OutboxMessage(
        platform="x",
        account="intake",
        dedupe_key=f"reply:x:{xapi.post_id(n)}",
        in_reply_to_post_id=xapi.post_id(n),
        template=template,
        lang="en",
        text=f"Thanks! Your report is filed as case #{n}."
        if template == "filed"
        else f"A {template} reply to post {n}.",
        next_attempt_at=at,
        created_at=at,
    )
