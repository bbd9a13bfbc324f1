"""`socialbot run`'s loop: jobs run on schedule, never overlap, and SIGTERM stops it cleanly."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from socialbot.app import build_service
from socialbot.broadcasts.broadcaster import BroadcastRequest
from socialbot.config import Settings
from socialbot.demo import DEMO_SETTINGS, DEMO_USER_ID, SAMPLE
from socialbot.errors import AuthFailed, RateLimited, Unavailable
from socialbot.health import read_jobs
from socialbot.network_settings import Channel
from socialbot.networks.base import MentionPage
from socialbot.networks.mastodon.replay import MastodonReplay
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.scheduler import Jobs, build_scheduler, run_forever
from socialbot.store.queries import list_cases, outbox_rows
from tests import xapi
from tests.conftest import Clock


def test_sigterm_lets_the_running_job_finish_then_returns() -> None:
    finished = threading.Event()
    started = threading.Event()

    def slow_job() -> None:
        started.set()
        time.sleep(0.3)  # a job in the middle of its work when the signal comes
        finished.set()

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(slow_job, "interval", seconds=60, id="slow", next_run_time=datetime.now(UTC))

    def terminate() -> None:
        started.wait(5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate, daemon=True).start()
    began = time.monotonic()
    run_forever(scheduler)

    # Liveness, not speed: the signal may land on a worker thread, and the stop must not wait
    # for the main thread's next wake-up at the job's next run, 60 s away.
    assert time.monotonic() - began < 30
    assert finished.is_set()
    assert not scheduler.running
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_a_rate_limited_poll_makes_no_request_before_the_reset(
    settings: Settings, clock: Clock
) -> None:
    calls: list[datetime] = []

    class Limited(ReplayPlatform):
        def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
            calls.append(clock())
            raise RateLimited("X rate limit reached", clock() + timedelta(minutes=15))

    service = build_service(settings, platform=Limited(xapi.CITY_ID), clock=clock)
    jobs = Jobs(service)

    jobs.poll()
    clock.advance(minutes=14)
    jobs.poll()
    clock.advance(minutes=2)
    jobs.poll()
    service.close()

    assert len(calls) == 2
    assert calls[1] - calls[0] == timedelta(minutes=16)


def test_a_failing_poll_is_logged_and_the_next_one_runs(
    settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    outcomes = iter([Unavailable("X server error (503)"), None])

    class Flaky(ReplayPlatform):
        def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
            failure = next(outcomes)
            if failure is not None:
                raise failure
            return []

    service = build_service(settings, platform=Flaky(xapi.CITY_ID), clock=clock)
    jobs = Jobs(service)
    jobs.poll()
    clock.advance(seconds=settings.poll_seconds * 1.2)  # the first backoff, jitter included
    jobs.poll()
    service.close()

    assert "event=poll_failed network=x failures=1" in caplog.text
    assert "error='X server error (503)'" in caplog.text
    assert "event=poll pages=0" in caplog.text


def test_x_failing_again_and_again_is_polled_less_and_less_often_up_to_a_cap(
    settings: Settings, clock: Clock
) -> None:
    calls: list[datetime] = []

    class Down(ReplayPlatform):
        def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
            calls.append(clock())
            raise Unavailable("X unreachable: ConnectTimeout")

    service = build_service(settings, platform=Down(xapi.CITY_ID), clock=clock)
    jobs = Jobs(service)
    for _ in range(12 * 60 * 6):  # the scheduler's ticks over six hours of outage
        jobs.poll()
        clock.advance(seconds=10)
    service.close()

    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(calls)]
    first = settings.poll_seconds
    # Doubling from one poll interval, ±20 % jitter, never more than 15 minutes (+ a tick).
    for n, gap in enumerate(gaps[:4]):
        assert first * 2**n * 0.8 <= gap <= first * 2**n * 1.2 + 10
    assert max(gaps) <= 15 * 60 * 1.2 + 10
    assert all(gap >= 15 * 60 * 0.8 for gap in gaps[-5:])  # at the cap, not hammering


def test_a_poll_with_rejected_credentials_waits_for_a_human_and_tries_again_later(
    settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[datetime] = []

    class Revoked(ReplayPlatform):
        def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
            calls.append(clock())
            raise AuthFailed("X rejected the credentials (401): Unauthorized")

    service = build_service(settings, platform=Revoked(xapi.CITY_ID), clock=clock)
    jobs = Jobs(service)
    for _ in range(60):  # ten minutes of ticks
        jobs.poll()
        clock.advance(seconds=10)
    service.close()

    assert [c - calls[0] for c in calls] == [timedelta(0), timedelta(minutes=5)]
    assert "event=poll_auth_failed" in caplog.text
    assert "X rejected the credentials (401)" in caplog.text


def test_run_polls_and_sends_from_worker_threads_until_sigterm(settings: Settings) -> None:
    platform = ReplayPlatform.from_file(SAMPLE, DEMO_USER_ID)
    demo = {**DEMO_SETTINGS, "send_seconds": 1}
    service = build_service(settings.model_copy(update=demo), platform=platform)
    scheduler = build_scheduler(service)

    def stop_when_all_replies_are_out() -> None:
        deadline = time.monotonic() + 20
        while len(platform.posted) < 14 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_when_all_replies_are_out, daemon=True).start()
    run_forever(scheduler)

    assert (
        len(platform.posted) == 14
    )  # 12 for the cases and the two help replies, 2 for neighbours linked to case #1
    assert len(list_cases(service.engine)) == 9
    assert {r.state.value for r in outbox_rows(service.engine)} == {"sent"}
    service.close()


def test_the_broadcast_job_posts_a_scheduled_alert_from_its_account_once(
    settings: Settings, clock: Clock
) -> None:
    intake, notify = ReplayPlatform(xapi.CITY_ID), ReplayPlatform("1583000000000000002")
    service = build_service(settings, platform=intake, clock=clock, accounts={"notify": notify})
    due = clock() + timedelta(hours=1)
    service.broadcaster.schedule(
        BroadcastRequest(account="notify", texts=("Parking ban from 6 pm.",)),
        "comms",
        at=due,
        cron=None,
    )
    jobs = Jobs(service)

    jobs.broadcasts()
    clock.now = due + timedelta(seconds=15)
    jobs.broadcasts()
    jobs.broadcasts()
    jobs.send()
    service.close()

    assert [p.text for p in notify.posted] == ["Parking ban from 6 pm."]
    assert intake.posted == []


def test_an_alert_scheduled_on_a_network_the_city_no_longer_runs_fails_alone(
    settings: Settings, clock: Clock
) -> None:
    """Scheduled while the city ran Mastodon, due after its Mastodon account was removed: that
    alert cannot go and must say so; X's alert due at the same time still goes at once."""
    city = build_service(
        settings,
        clock=clock,
        networks={
            Channel("x", "intake"): ReplayPlatform(xapi.CITY_ID),
            Channel("mastodon", "intake"): MastodonReplay("113400000000000001"),
        },
    )
    due = clock() + timedelta(hours=1)
    for network in ("x", "mastodon"):
        city.broadcaster.schedule(
            BroadcastRequest(account="intake", texts=("Parking ban from 6 pm.",), network=network),
            "comms",
            at=due,
            cron=None,
        )
    city.close()
    x = ReplayPlatform(xapi.CITY_ID)
    service = build_service(settings, clock=clock, networks={Channel("x", "intake"): x})
    jobs = Jobs(service)
    clock.now = due + timedelta(seconds=15)

    jobs.broadcasts()
    failures = read_jobs(service.engine, clock())
    rows = {r.platform: r.state.value for r in outbox_rows(service.engine)}
    log = service.broadcaster.log(None)
    service.close()

    assert [p.text for p in x.posted] == ["Parking ban from 6 pm."]
    assert failures == []
    assert "mastodon" not in rows  # nothing queued that no outbox would ever send
    [gone] = [e for e in log if e.network == "mastodon" and e.event == "failed"]
    assert "account intake on mastodon is not configured any more" in (gone.error or "")
