"""A refused app password never spends the account's daily sign-ins."""

from __future__ import annotations

from socialbot.app import build_service
from socialbot.config import Settings
from socialbot.scheduler import Jobs
from tests.conftest import Clock
from tests.networks.bluesky.server import BlueskyServer
from tests.test_app_bluesky import city, pds  # noqa: F401

SIGN_INS_A_DAY = 100  # bsky.social: about 100 createSession a day per account (issue 15)


def test_a_refused_app_password_spends_well_under_a_days_sign_ins(
    city: Settings,  # noqa: F811
    clock: Clock,
    pds: BlueskyServer,  # noqa: F811
) -> None:
    pds.password = "revoked-app-password"  # the app password was revoked on bsky.social
    service = build_service(city, clock=clock)
    try:
        jobs = Jobs(service)
        # A day of the scheduler's ticks, every five minutes: finer than the ten minutes a flat
        # spacing would wait between sign-ins (144 a day), so the test sees each one it would try.
        for _ in range(24 * 12):
            jobs.poll()
            jobs.send()
            clock.advance(minutes=5)
    finally:
        service.close()

    attempts = len(pds.asked("com.atproto.server.createSession"))
    # Every refused attempt counts against the account's limit: a service that keeps knocking
    # leaves none for the morning the operator sets the new password (a day of no intake).
    assert attempts <= SIGN_INS_A_DAY // 4, attempts
