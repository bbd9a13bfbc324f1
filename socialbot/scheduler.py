"""`socialbot run`: APScheduler calling the poll, send and broadcast jobs, and a clean stop on
SIGINT/SIGTERM.

The jobs are plain functions of the service and a clock; the scheduler only decides when. Each job
runs at most one instance at a time (a slow poll is never overlapped by the next), missed runs are
coalesced into one, and every exception is logged here in one line so one bad cycle never kills
the service. However many processes run on one database, only the holder of the account's poll
lock polls (`store/poll_lock.py`); the others send, and take the poll over when it stops.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_SCHEDULER_SHUTDOWN, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from socialbot import sdnotify
from socialbot.app import Service
from socialbot.errors import AuthFailed, PlatformError, RateLimited
from socialbot.health import JobHealth, fallback_path, one_line
from socialbot.outbox import AUTH_RETRY, Outbox, RetryPolicy, send_once
from socialbot.poller import poll_once

log = logging.getLogger(__name__)
# The longest the poll waits after failures in a row: X back within 15 minutes is heard from.
POLL_BACKOFF_CAP = timedelta(minutes=15)


class Jobs:
    """The job functions, and what outlives a run: when X lets us poll again, and how each job
    has been failing.

    Every run that fails, whatever the cause (X, a database error, a bug), is counted
    (`health.JobHealth`: what `status` shows) and makes its job wait, doubling from one interval
    up to `POLL_BACKOFF_CAP`, rather than run again at the next tick. And no job runs while the
    database refuses writes: a poll whose page cannot be saved would fetch the same page again
    and again, and pay for it each time.
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.health = service.health or JobHealth(service.engine, service.clock)
        # `status` runs apart: it reads what the database refused from this file.
        self.health.keep_file(fallback_path(service.settings.database_url))
        self.poll_not_before: datetime | None = None
        self.poll_failures = 0  # in a row, for the backoff
        self.poll_backoff = _backoff(service.settings.poll_seconds)
        self._backoffs = {
            "send": _backoff(service.settings.send_seconds),
            "broadcasts": _backoff(BROADCAST_SECONDS),
        }
        self._not_before: dict[str, datetime] = {}
        self.poll_lock = service.poll_lock()

    def poll(self) -> None:
        now = self.service.clock()
        if self.poll_not_before is not None and now < self.poll_not_before:
            log.info(
                "event=poll_skipped reason=%s until=%s",
                "backing_off" if self.poll_failures else "rate_limited",
                self.poll_not_before.isoformat(),
            )
            return
        try:
            _database_takes_writes(self.health)
            if not self.poll_lock.acquire_or_check():
                return  # another instance polls (the lock logs each change of role, not each skip)
            poll_once(
                self.service.intake, self.service.clock, user_id=self.service.settings.x_user_id
            )
        except RateLimited as exc:
            self.poll_not_before = exc.reset_at or now + timedelta(minutes=1)
            log.warning("event=poll_rate_limited until=%s", self.poll_not_before.isoformat())
            return
        except AuthFailed as exc:
            # A human must fix the credentials: say so loudly, and knock again now and then.
            self.health.failed("poll", exc)
            self.poll_not_before = now + AUTH_RETRY
            log.error(
                "event=poll_auth_failed until=%s error=%r",
                self.poll_not_before.isoformat(),
                str(exc),
            )
            return
        except Exception as exc:
            # 5xx, timeout, connection error; a database error, a bug: back off, doubling,
            # jittered, capped. Never at every tick: each try may cost a call to X.
            self.health.failed("poll", exc)
            self.poll_failures += 1
            self.poll_not_before = now + self.poll_backoff.delay(self.poll_failures)
            log.log(
                logging.WARNING if isinstance(exc, PlatformError) else logging.ERROR,
                "event=poll_failed failures=%d until=%s error=%r",
                self.poll_failures,
                self.poll_not_before.isoformat(),
                str(exc) if isinstance(exc, PlatformError) else one_line(exc),
                exc_info=not isinstance(exc, PlatformError | NotWritable)
                and self.poll_failures == 1,
            )
            return
        self.poll_not_before, self.poll_failures = None, 0
        self.health.succeeded("poll")

    def send(self) -> None:
        """Post what each account has queued: replies, and the posts of broadcasts."""
        self._guarded("send", self._send_all)

    def _send_all(self) -> None:
        for outbox in self.service.outboxes:
            self._send(outbox)

    def _send(self, outbox: Outbox) -> None:
        report = send_once(outbox, self.service.clock)
        if report.sent or report.failed or (report.stopped_by and report.held is None):
            log.info(
                "event=send account=%s sent=%d failed=%d retrying=%d recovered=%d stopped_by=%s",
                outbox.account,
                report.sent,
                report.failed,
                report.retrying,
                report.recovered,
                report.stopped_by,
            )

    def broadcasts(self) -> None:
        """Queue the scheduled broadcasts now due, and post them at once."""
        self._guarded("broadcasts", self._broadcasts)

    def _broadcasts(self) -> None:
        report = self.service.broadcaster.fire_due()
        for account in sorted(report.accounts):
            self._send(self.service.outbox_for(account))

    def _guarded(self, job: str, run: Callable[[], None]) -> None:
        """`run`, unless `job` is backing off; a failure counted, and backed off."""
        now = self.service.clock()
        waiting = self._not_before.get(job)
        if waiting is not None and now < waiting:
            return  # said when it failed; a line at every tick would drown the log
        try:
            _database_takes_writes(self.health)
            run()
        except Exception as exc:
            failures = self.health.failed(job, exc)
            self._not_before[job] = now + self._backoffs[job].delay(failures)
            log.error(
                "event=job_failed job=%s failures=%d until=%s error=%r",
                job,
                failures,
                self._not_before[job].isoformat(),
                one_line(exc),
                exc_info=failures == 1 and not isinstance(exc, NotWritable),
            )
            return
        self._not_before.pop(job, None)
        self.health.succeeded(job)


class NotWritable(Exception):
    """The database still refuses writes: the job did not run."""


def _database_takes_writes(health: JobHealth) -> None:
    """After a failure the database refused to record, write it now: if it still refuses, the
    job does not run (and calls no one)."""
    if not health.flush():
        raise NotWritable(
            f"the database still refuses writes ({health.write_error}); the job did not run"
        )


def _backoff(first_seconds: float) -> RetryPolicy:
    return RetryPolicy(
        first_delay=timedelta(seconds=first_seconds), factor=2.0, max_delay=POLL_BACKOFF_CAP
    )


def _on_error(event: JobExecutionEvent) -> None:
    log.error(
        "event=job_error job=%s error=%r",
        event.job_id,
        str(event.exception),
        exc_info=event.exception,
    )


# How often due broadcasts are looked for: an alert set for 07:00 goes out by 07:00:15.
BROADCAST_SECONDS = 15


def build_scheduler(
    service: Service, *, poll: bool = True, send: bool = True
) -> BackgroundScheduler:
    jobs = Jobs(service)
    # One worker per job: the poll, the sender and the broadcasts never wait for each other.
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(3)}, timezone="UTC")
    settings = service.settings
    first = service.clock()
    wanted = [
        (poll, jobs.poll, "poll", settings.poll_seconds),
        (send, jobs.send, "send", settings.send_seconds),
        (send, jobs.broadcasts, "broadcasts", BROADCAST_SECONDS),
    ]
    for enabled, job, name, seconds in wanted:
        if enabled:
            scheduler.add_job(
                job,
                "interval",
                seconds=seconds,
                id=name,
                max_instances=1,  # a slow run is never overlapped by the next
                coalesce=True,  # runs missed while busy collapse into one
                next_run_time=first,
                misfire_grace_time=seconds,
            )
    scheduler.add_listener(_on_error, EVENT_JOB_ERROR)
    # After the last job has finished: another instance may poll from its next tick.
    scheduler.add_listener(lambda _event: jobs.poll_lock.release(), EVENT_SCHEDULER_SHUTDOWN)
    return scheduler


# How often the main thread looks up from waiting. A signal may be delivered to a worker thread;
# Python then runs its handler only when the main thread next wakes, so it must wake often.
WAKE_SECONDS = 0.5


def run_forever(scheduler: BackgroundScheduler) -> None:
    """Run the jobs until SIGINT/SIGTERM, then let the running ones finish before returning."""
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            log.info("event=stopping signal=%s", signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    watchdog = sdnotify.Watchdog(scheduler)  # before start(): it counts the jobs' runs
    try:
        scheduler.start()
        log.info("event=started jobs=%s", ",".join(job.id for job in scheduler.get_jobs()))
        sdnotify.notify("READY=1")  # systemd (Type=notify): started; a no-op elsewhere
        while not stopping.wait(WAKE_SECONDS):
            watchdog.tick()  # pings systemd's watchdog while the jobs are alive
    finally:
        sdnotify.notify("STOPPING=1")
        if scheduler.running:
            scheduler.shutdown(wait=True)  # the job in hand finishes; none starts after
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("event=stopped")
