"""`socialbot run`: APScheduler calling the poll, send and broadcast jobs (and, with an Open311
endpoint, the CRM's send and sync jobs), and a clean stop on SIGINT/SIGTERM.

The jobs are plain functions of the service and a clock; the scheduler only decides when. Each job
runs at most one instance at a time (a slow poll is never overlapped by the next), missed runs are
coalesced into one, and every exception is logged here in one line so one bad cycle never kills
the service. However many processes run on one database, only the holder of the account's poll
lock polls (`store/poll_lock.py`); the others send, and take the poll over when it stops.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_SCHEDULER_SHUTDOWN, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from socialbot import sdnotify
from socialbot.app import NETWORKS, Service
from socialbot.errors import AuthFailed, PlatformError, RateLimited
from socialbot.health import JobHealth, fallback_path, one_line
from socialbot.open311.forwarder import enqueue_due, forward_once
from socialbot.open311.sync import sync_once
from socialbot.outbox import AUTH_RETRY, Outbox, RetryPolicy, send_once
from socialbot.poller import Intake, poll_once
from socialbot.store.poll_lock import PollLock
from socialbot.store.statistics import analyze, keeps_statistics

log = logging.getLogger(__name__)
# The longest the poll waits after failures in a row: X back within 15 minutes is heard from.
POLL_BACKOFF_CAP = timedelta(minutes=15)


@dataclass(slots=True)
class _Poll:
    """One network's poll: its intake, its lock, and when it may run again. Each network backs
    off on its own: an outage, a rate limit or bad credentials on one never hold another."""

    intake: Intake
    lock: PollLock
    job: str  # its name in `health` and the log: "poll", or "poll:<network>" beside others
    not_before: datetime | None = None
    failures: int = 0  # in a row, for the backoff


class Jobs:
    """The job functions, and what outlives a run: when each network lets us poll again, and how
    each job has been failing.

    Every run that fails, whatever the cause (the network, a database error, a bug), is counted
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
        intakes = service.intakes
        self.polls = {
            i.platform.name: _Poll(
                i,
                service.poll_lock(i.platform.name),
                "poll" if len(intakes) == 1 else f"poll:{i.platform.name}",
            )
            for i in intakes
        }
        self.networks = list(dict.fromkeys(channel.network for channel in service.networks))
        self.poll_backoff = _backoff(service.settings.poll_seconds)
        self._backoffs = {
            "send": _backoff(service.settings.send_seconds),
            "broadcasts": _backoff(BROADCAST_SECONDS),
            "open311": _backoff(service.settings.open311_sync_minutes * 60),
            "db": _backoff(service.settings.poll_seconds),
        }
        self._not_before: dict[str, datetime] = {}

    @property
    def poll_lock(self) -> PollLock:
        """The first network's poll lock (a city on one network has only that one)."""
        return next(iter(self.polls.values())).lock

    def release_locks(self) -> None:
        for poll in self.polls.values():
            poll.lock.release()

    def poll(self) -> None:
        """Poll every network, each as its own job would."""
        for network in self.polls:
            self.poll_network(network)

    def poll_network(self, network: str) -> None:
        poll = self.polls[network]
        now = self.service.clock()
        if poll.not_before is not None and now < poll.not_before:
            log.info(
                "event=poll_skipped network=%s reason=%s until=%s",
                network,
                "backing_off" if poll.failures else "rate_limited",
                poll.not_before.isoformat(),
            )
            return
        try:
            _database_takes_writes(self.health)
            if not poll.lock.acquire_or_check():
                return  # another instance polls (the lock logs each change of role, not each skip)
            poll_once(poll.intake, self.service.clock)
        except RateLimited as exc:
            poll.not_before = exc.reset_at or now + timedelta(minutes=1)
            log.warning(
                "event=poll_rate_limited network=%s until=%s", network, poll.not_before.isoformat()
            )
            return
        except AuthFailed as exc:
            # A human must fix the credentials: say so loudly, and knock again now and then.
            self.health.failed(poll.job, exc)
            poll.not_before = now + AUTH_RETRY
            log.error(
                "event=poll_auth_failed network=%s until=%s error=%r",
                network,
                poll.not_before.isoformat(),
                str(exc),
            )
            return
        except Exception as exc:
            # 5xx, timeout, connection error; a database error, a bug: back off, doubling,
            # jittered, capped. Never at every tick: each try may cost a call to the network.
            self.health.failed(poll.job, exc)
            poll.failures += 1
            poll.not_before = now + self.poll_backoff.delay(poll.failures)
            log.log(
                logging.WARNING if isinstance(exc, PlatformError) else logging.ERROR,
                "event=poll_failed network=%s failures=%d until=%s error=%r",
                network,
                poll.failures,
                poll.not_before.isoformat(),
                str(exc) if isinstance(exc, PlatformError) else one_line(exc),
                exc_info=not isinstance(exc, PlatformError | NotWritable) and poll.failures == 1,
            )
            return
        poll.not_before, poll.failures = None, 0
        self.health.succeeded(poll.job)

    def send(self) -> None:
        """Post what each account has queued on every network: replies, broadcasts' posts."""
        for network in self.networks:
            self.send_network(network)

    def send_network(self, network: str) -> None:
        """Post what `network`'s accounts have queued; its failures back off its job alone."""
        job = "send" if len(self.networks) == 1 else f"send:{network}"
        self._guarded(job, lambda: self._send_all(network))

    def _send_all(self, network: str) -> None:
        for outbox in self.service.outboxes:
            if outbox.network == network:
                self._send(outbox)

    def _send(self, outbox: Outbox) -> None:
        report = send_once(outbox, self.service.clock)
        if report.sent or report.failed or (report.stopped_by and report.held is None):
            log.info(
                "event=send network=%s account=%s sent=%d failed=%d retrying=%d recovered=%d "
                "opted_out=%d expired=%d stopped_by=%s",
                outbox.network,
                outbox.account,
                report.sent,
                report.failed,
                report.retrying,
                report.recovered,
                report.opted_out,
                report.expired,
                report.stopped_by,
            )

    def broadcasts(self) -> None:
        """Queue the scheduled broadcasts now due, and post them at once."""
        self._guarded("broadcasts", self._broadcasts)

    def _broadcasts(self) -> None:
        report = self.service.broadcaster.fire_due()
        for channel in sorted(report.accounts, key=lambda c: (c.network, c.account)):
            if channel in self.service.networks:  # the broadcaster queues for these alone
                outbox = self.service.outbox_for(channel.account, channel.network)
                # A paced queue (SMS) drains at its rate in its own send job: here it would
                # hold the other networks' posts, and the next due broadcasts, behind it.
                if outbox.pacer is None:
                    self._send(outbox)

    def open311_send(self) -> None:
        """Queue the cases due for the city's CRM, and send what is due (the forwarder retries
        an outage on its own rhythm; a failure here is the database's, or a bug)."""
        self._guarded("open311:send", self._open311_send)

    def _open311_send(self) -> None:
        forwarder = self.service.open311
        assert forwarder is not None  # the job exists only with an endpoint
        queued = enqueue_due(forwarder, self.service.clock)
        report = forward_once(forwarder, self.service.clock)
        if queued or report.sent or report.token or report.rejected or report.recovered:
            log.info(
                "event=open311_send queued=%d sent=%d token=%d rejected=%d retrying=%d "
                "recovered=%d",
                queued,
                report.sent,
                report.token,
                report.rejected,
                report.retrying,
                report.recovered,
            )

    def open311_sync(self) -> None:
        """Read back what the city's CRM says of the forwarded cases, and act on it."""
        self._guarded("open311:sync", self._open311_sync)

    def _open311_sync(self) -> None:
        forwarder = self.service.open311
        assert forwarder is not None
        report = sync_once(
            self.service.engine,
            forwarder.client,
            self.service.staff,
            self.service.clock,
            updates=self.service.settings.open311_updates,
        )
        if report.changed or report.closed or report.failed:
            log.info(
                "event=open311_sync checked=%d changed=%d closed=%d failed=%d",
                report.checked,
                report.changed,
                report.closed,
                report.failed,
            )

    def optimize(self) -> None:
        """Fresh statistics for SQLite's planner, which gathers none itself
        (`store.statistics`)."""
        self._guarded("db:optimize", lambda: analyze(self.service.engine))

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
            backoff = self._backoffs[job.split(":", 1)[0]]
            self._not_before[job] = now + backoff.delay(failures)
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
# How often a network whose messages the web service records (SMS: `sms_inbound`) is read, at
# most: a poll there is one indexed query of our own database, no call and no bill, and a
# resident who texted waits for the answer on their phone.
LOCAL_POLL_SECONDS = 5
# How often SQLite's statistics are taken again: a storm's thousands of cases a day change them
# little within an hour, and each take costs milliseconds.
OPTIMIZE_SECONDS = 3600


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler's, whose shutdown first tells the jobs to stop (`Service.stopping`): a
    paced send waiting its turn then stops at once, and `shutdown(wait=True)` does not wait
    for the rest of its batch at the carrier's rate."""

    def __init__(self, stopping: threading.Event, **options: object) -> None:
        super().__init__(**options)
        self.stopping = stopping

    def shutdown(self, wait: bool = True) -> None:
        self.stopping.set()
        super().shutdown(wait=wait)


def poll_seconds(service: Service, network: str) -> int:
    """How often `network` is polled: every `SOCIALBOT_POLL_SECONDS`, or more often for a network
    read from our own database (`NetworkKind.reads_database`)."""
    seconds = service.settings.poll_seconds
    kind = NETWORKS.get(network)
    if kind is not None and kind.reads_database:
        return min(seconds, LOCAL_POLL_SECONDS)
    return seconds


def build_scheduler(
    service: Service, *, poll: bool = True, send: bool = True
) -> BackgroundScheduler:
    jobs = Jobs(service)
    settings = service.settings
    first = service.clock()
    # A poll and a send per network, each its own job: one network's slow answers or outage
    # never delay another's.
    wanted: list[tuple[bool, Callable[[], None], str, float]] = [
        (
            poll,
            functools.partial(jobs.poll_network, network),
            f"poll:{network}",
            poll_seconds(service, network),
        )
        for network in jobs.polls
    ]
    wanted += [
        (
            send,
            functools.partial(jobs.send_network, network),
            f"send:{network}",
            settings.send_seconds,
        )
        for network in jobs.networks
    ]
    wanted.append((send, jobs.broadcasts, "broadcasts", BROADCAST_SECONDS))
    if service.open311 is not None:
        # The city's CRM: its own two jobs, so its outage never delays a reply or a broadcast.
        # A new case goes at the replies' pace; the CRM's word is read every few minutes.
        wanted.append((send, jobs.open311_send, "open311:send", settings.send_seconds))
        sync_every = round(settings.open311_sync_minutes * 60)  # whole seconds, as APScheduler
        wanted.append((send, jobs.open311_sync, "open311:sync", sync_every))
    if keeps_statistics(service.engine):
        wanted.append((True, jobs.optimize, "db:optimize", OPTIMIZE_SECONDS))
    # One worker per job: the polls, the senders and the broadcasts never wait for each other.
    workers = ThreadPoolExecutor(len(wanted))
    scheduler = _Scheduler(service.stopping, executors={"default": workers}, timezone="UTC")
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
    scheduler.add_listener(lambda _event: jobs.release_locks(), EVENT_SCHEDULER_SHUTDOWN)
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
