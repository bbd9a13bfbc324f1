"""systemd's notify protocol (sd_notify(3)) with the standard library, and the service watchdog.

Under ``Type=notify`` systemd passes ``$NOTIFY_SOCKET``, a unix datagram socket (a path, or an
abstract name written with a leading ``@``), and, with ``WatchdogSec=``, ``$WATCHDOG_USEC``.
``socialbot run`` sends ``READY=1`` once the scheduler is started, ``WATCHDOG=1`` from the main
loop while the service is alive, and ``STOPPING=1`` when it begins to stop. Outside systemd every
call is a no-op, so nothing here needs a flag.

What "alive" means (`Watchdog.problem`): the scheduler is running, its thread is alive, and no job
has been running for longer than ``max(STUCK_RUNS * its interval, STUCK_SECONDS)``. The jobs make
only requests with timeouts and bounded batches (20 pages of mentions, 50 posts), so a job running
that long is hung (a deadlock, a lost lock); the main loop then withholds the ping, logs why once,
and systemd kills and restarts the service (``WatchdogSec=`` with ``Restart=on-failure``). A
restart is safe by design: a mention is re-fetched unless its page was committed, and a reply
claimed but not confirmed is checked against X before any resend. The bound is generous on
purpose: a restart in the middle of a storm's legitimately slow poll would cost more than it saves.
A main thread that stops waking (the loop itself hung) stops the pings too.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

# A job running longer than this many of its intervals, and longer than STUCK_SECONDS, is hung.
STUCK_RUNS = 10
STUCK_SECONDS = 30 * 60
# How often the health check runs when systemd asked for no watchdog (it then only logs).
CHECK_SECONDS_WITHOUT_WATCHDOG = 60.0


def _address() -> str | None:
    """`$NOTIFY_SOCKET` as a socket address, or None when unset or not a unix socket."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        return "\0" + address[1:]  # Linux abstract namespace
    if address.startswith("/"):
        return address
    return None  # unset, or a kind we do not speak (e.g. systemd 253's vsock:)


def notify(message: str) -> bool:
    """Send one notification, e.g. ``"READY=1"``; True if it was sent.

    A no-op returning False when ``$NOTIFY_SOCKET`` is unset (not run by systemd, or not
    ``Type=notify``). A failure to send is logged and returns False: it must never stop the bot.
    """
    address = _address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
    except OSError as exc:
        log.warning("event=sd_notify_failed message=%r error=%r", message, str(exc))
        return False
    return True


def watchdog_interval() -> float | None:
    """The watchdog timeout systemd expects pings within, in seconds; None when it asks none.

    From ``$WATCHDOG_USEC``; when ``$WATCHDOG_PID`` is set it must be this process's id (the
    variables may have been inherited from a parent that was the one supervised).
    """
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = os.environ.get("WATCHDOG_PID")
    if pid is not None and pid.strip() != str(os.getpid()):
        return None
    return usec / 1_000_000


class Watchdog:
    """Pings systemd's watchdog from the main loop while the scheduler and its jobs are alive.

    Create it before ``scheduler.start()`` (it counts job runs through the scheduler's events),
    then call `tick` on every wake of the main loop; it pings at half the watchdog interval.
    """

    def __init__(
        self,
        scheduler: BaseScheduler,
        *,
        clock: Callable[[], float] = time.monotonic,
        stuck_runs: float = STUCK_RUNS,
        stuck_seconds: float = STUCK_SECONDS,
    ) -> None:
        self.scheduler = scheduler
        self.interval = watchdog_interval()
        self._clock = clock
        self._stuck_runs = stuck_runs
        self._stuck_seconds = stuck_seconds
        self._lock = threading.Lock()
        # Per job: submitted minus finished runs, and since when it is above zero. A fast job's
        # "executed" event (worker thread) can be dispatched before its "submitted" event
        # (scheduler thread); counting makes the order irrelevant.
        self._running: dict[str, int] = {}
        self._since: dict[str, float] = {}
        self._last_check: float | None = None
        self._reported: str | None = None
        scheduler.add_listener(
            self._on_event,
            EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
        )

    def _on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, JobSubmissionEvent):
            job_id, change = event.job_id, len(event.scheduled_run_times)
        elif isinstance(event, JobExecutionEvent):
            job_id, change = event.job_id, -1
        else:  # pragma: no cover - only the job events above are subscribed
            return
        with self._lock:
            count = self._running.get(job_id, 0) + change
            self._running[job_id] = count
            if count > 0:
                self._since.setdefault(job_id, self._clock())
            else:
                self._since.pop(job_id, None)

    def problem(self) -> str | None:
        """Why the service is not alive, or None when it is (see the module docstring)."""
        if not self.scheduler.running:
            return "the scheduler is not running"
        # BackgroundScheduler's own thread (APScheduler 3, pinned <4): if it died, no job runs.
        thread: Any = getattr(self.scheduler, "_thread", None)
        if isinstance(thread, threading.Thread) and not thread.is_alive():
            return "the scheduler's thread has died"
        now = self._clock()
        with self._lock:
            since = dict(self._since)
        for job_id, started in sorted(since.items()):
            limit = max(self._stuck_runs * self._job_seconds(job_id), self._stuck_seconds)
            if now - started > limit:
                # The same words for as long as it lasts: `tick` logs a change, not every check.
                return f"job {job_id} has been running for more than {limit:.0f} s"
        return None

    def _job_seconds(self, job_id: str) -> float:
        job = self.scheduler.get_job(job_id)
        interval = getattr(getattr(job, "trigger", None), "interval", None)
        seconds = getattr(interval, "total_seconds", None)
        return float(seconds()) if callable(seconds) else 0.0

    def tick(self) -> bool:
        """Check health and ping when due; True when a ping was sent."""
        now = self._clock()
        period = self.interval / 2 if self.interval else CHECK_SECONDS_WITHOUT_WATCHDOG
        if self._last_check is not None and now - self._last_check < period:
            return False
        self._last_check = now
        problem = self.problem()
        if problem != self._reported:
            if problem is None:
                log.info("event=watchdog_healthy")
                notify("STATUS=running")
            else:
                action = "withholding the watchdog ping" if self.interval else "no watchdog set"
                log.error("event=watchdog_unhealthy reason=%r action=%r", problem, action)
                notify(f"STATUS=unhealthy: {problem}")
            self._reported = problem
        if problem is not None or not self.interval:
            return False
        return notify("WATCHDOG=1")
