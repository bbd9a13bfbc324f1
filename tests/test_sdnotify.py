"""sd_notify over a real unix datagram socket, the watchdog's idea of "alive", and run_forever's
READY / WATCHDOG / STOPPING."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler

from socialbot import sdnotify
from socialbot.scheduler import run_forever


class Receiver:
    """The systemd end of $NOTIFY_SOCKET."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.messages: list[str] = []

    def wait_for(self, message: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while message not in self.messages:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                return False
        return True

    def drain(self) -> list[str]:
        self.sock.settimeout(0.2)
        try:
            while True:
                self.messages.append(self.sock.recv(4096).decode())
        except TimeoutError:
            pass
        return self.messages


@pytest.fixture(autouse=True)
def _no_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    path = tmp_path / "notify"
    assert len(str(path)) < 100, "AF_UNIX paths are limited to 108 bytes"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        yield Receiver(sock)


def test_notify_is_a_no_op_outside_systemd() -> None:
    assert sdnotify.notify("READY=1") is False
    assert sdnotify.watchdog_interval() is None


def test_notify_sends_one_datagram_to_a_socket_path(receiver: Receiver) -> None:
    assert sdnotify.notify("READY=1\nSTATUS=polling") is True
    assert receiver.wait_for("READY=1\nSTATUS=polling")


def test_notify_speaks_to_an_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"socialbot-test-{os.getpid()}-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.notify("WATCHDOG=1") is True
        assert Receiver(sock).wait_for("WATCHDOG=1")


def test_a_socket_nobody_listens_on_is_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.notify("READY=1") is False
    assert "event=sd_notify_failed" in caplog.text


def test_an_address_of_another_kind_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:1234")
    assert sdnotify.notify("READY=1") is False


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("30000000", None, 30.0),
        ("30000000", "self", 30.0),
        ("30000000", "1", None),  # inherited from another process: not ours to ping
        ("0", None, None),
        ("soon", None, None),
    ],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str, pid: str | None, expected: float | None
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    if pid is not None:
        monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()) if pid == "self" else pid)
    assert sdnotify.watchdog_interval() == expected


def test_run_forever_says_ready_pings_the_watchdog_and_says_stopping(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 1 s watchdog: a ping is due every 0.5 s, i.e. on every wake of the main loop.
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: None, "interval", seconds=60, id="poll")
    pings: list[float] = []

    def systemd() -> None:
        # READY first, then two pings: the loop keeps pinging, not only once at start.
        if receiver.wait_for("READY=1"):
            for _ in range(2):
                receiver.messages.clear()
                if receiver.wait_for("WATCHDOG=1"):
                    pings.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGTERM)  # what `systemctl stop` sends

    thread = threading.Thread(target=systemd, daemon=True)
    thread.start()
    run_forever(scheduler)
    thread.join(10)

    assert len(pings) == 2
    assert "STOPPING=1" in receiver.drain()
    assert not scheduler.running


def _blocking_scheduler(release: threading.Event, started: threading.Event) -> BackgroundScheduler:
    def job() -> None:
        started.set()
        release.wait(10)

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(job, "interval", seconds=60, id="poll", next_run_time=datetime.now(UTC))
    return scheduler


def test_a_stuck_job_withholds_the_ping_until_it_finishes(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")  # ping every 10 s of the fake clock
    now = [1000.0]
    release, started = threading.Event(), threading.Event()
    scheduler = _blocking_scheduler(release, started)
    watchdog = sdnotify.Watchdog(scheduler, clock=lambda: now[0], stuck_seconds=300)
    # Listeners run in the order added: once this one has run, the watchdog has seen the start.
    submitted = threading.Event()
    scheduler.add_listener(lambda _event: submitted.set(), EVENT_JOB_SUBMITTED)
    scheduler.start()
    try:
        assert started.wait(5)
        assert submitted.wait(5)
        assert watchdog.tick() is True  # running for 0 s: alive
        now[0] += 5
        assert watchdog.tick() is False  # not due yet
        now[0] += 5 * 60 + 1
        assert watchdog.tick() is True  # 306 s: the limit is 10 x 60 s = 600 s, not 300 s
        now[0] += 5 * 60
        assert watchdog.tick() is False  # 606 s > 600 s: stuck
        assert watchdog.problem() == "job poll has been running for more than 600 s"
        now[0] += 10
        assert watchdog.tick() is False
        assert caplog.text.count("event=watchdog_unhealthy") == 1  # logged once, not every check
        release.set()
        deadline = time.monotonic() + 5
        while watchdog.problem() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        now[0] += 10
        assert watchdog.tick() is True
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    messages = receiver.drain()
    assert messages.count("WATCHDOG=1") == 3
    assert any(m.startswith("STATUS=unhealthy: job poll") for m in messages)
    assert "STATUS=running" in messages


def test_a_finish_reported_before_its_start_leaves_no_job_running() -> None:
    # The worker thread may dispatch "executed" before the scheduler thread dispatches
    # "submitted" for a job that returns at once.
    now = [0.0]
    scheduler = BackgroundScheduler(timezone="UTC")
    watchdog = sdnotify.Watchdog(scheduler, clock=lambda: now[0], stuck_seconds=1)
    run_time = datetime.now(UTC)
    scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_EXECUTED, "poll", "default", run_time))
    scheduler._dispatch_event(
        JobSubmissionEvent(EVENT_JOB_SUBMITTED, "poll", "default", [run_time])
    )
    scheduler.start(paused=True)
    try:
        now[0] += 3600
        assert watchdog.problem() is None
    finally:
        scheduler.shutdown()


def test_a_dead_scheduler_is_not_alive(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    scheduler = BackgroundScheduler(timezone="UTC")
    watchdog = sdnotify.Watchdog(scheduler)
    assert watchdog.problem() == "the scheduler is not running"
    assert watchdog.tick() is False  # no watchdog asked for: checks and logs, never pings
    assert "event=watchdog_unhealthy" in caplog.text
