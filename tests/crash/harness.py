"""Start, kill and restart real `socialbot run` processes against a fake X and a real database.

    harness = CrashHarness(tmp_path, database_url, page_size=3)
    harness.fake_x.add_mention(tweet)                    # what X will serve
    bot = harness.start(failpoints="send.after_post")   # SOCIALBOT_FAILPOINTS, see failpoints.py
    bot.wait_killed()                                    # it died by SIGKILL at the failpoint
    bot = harness.start()                                # the restart
    harness.wait_for("all handled", lambda: harness.settled(ids), watch=[bot])
    assert bot.stop() == 0                               # SIGTERM, a clean exit
    harness.fake_x.posts(), harness.engine               # what X got; the bots' database
    harness.close()                                      # kills what still runs, prints the logs

Each process is `python -m tests.crash.fake_x_run <state> run` from the project root, so it runs
the real command, the real X adapter (tweepy) and the real database code; only the HTTP layer is
the fake X (`tests/crash/fake_x.py`). Several processes may run at once (`start(name=…)`): they
share the database and the fake X, and the fake X records the pid of every request. Each has its
own log file (stdout and stderr) under `tmp_path`; `close` prints them all, which pytest shows
for a failed test only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, func
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select

from socialbot.store.models import MentionRecord, OutboxMessage, OutboxState
from tests import xapi
from tests.crash.fake_x import FakeX

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The fastest loop config.py allows, and a recovery of half-sent replies within seconds.
FAST = {
    "SOCIALBOT_POLL_SECONDS": "5",
    "SOCIALBOT_SEND_SECONDS": "1",
    "SOCIALBOT_RECOVER_AFTER_SECONDS": "2",
    # A reply requeued by the recovery goes again a second later, not after the usual 30.
    "SOCIALBOT_RETRY_SECONDS": "1",
    # The mentions are minutes old; the first poll must file and answer them, not only record.
    "SOCIALBOT_BACKFILL_HOURS": "720",
}
CREDENTIALS = {
    "SOCIALBOT_X_CONSUMER_KEY": "ck-crash",
    "SOCIALBOT_X_CONSUMER_SECRET": "cs-crash",
    "SOCIALBOT_X_ACCESS_TOKEN": "at-crash",
    "SOCIALBOT_X_ACCESS_TOKEN_SECRET": "ats-crash",
    "SOCIALBOT_X_USER_ID": xapi.CITY_ID,
}


@dataclass(slots=True)
class BotProcess:
    """One `socialbot run` child."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    failpoints: str | None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_killed(self, timeout: float = 60.0) -> None:
        """Wait for the failpoint's SIGKILL; fail (with the log) on any other end, or none."""
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} (pid {self.pid}) still runs after {timeout:.0f} s: failpoint "
                f"{self.failpoints!r} never fired\n{self.log()}"
            ) from None
        assert code == -signal.SIGKILL, f"{self.name} exited {code}, not by SIGKILL\n{self.log()}"

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as systemd stops the service; the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} ignored SIGTERM for {timeout:.0f} s") from None

    def kill(self) -> None:
        """SIGKILL from outside (a test's own kill, or the clean-up)."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()


class CrashHarness:
    """A fake X, a database URL, and the bots started against them (see the module's doc)."""

    # The child's entry point, the state file it is handed and the credentials it runs with:
    # X's fake by default (`SmsCrashHarness`: Twilio's).
    runner = "tests.crash.fake_x_run"
    credentials: Mapping[str, str] = CREDENTIALS

    def __init__(self, tmp_path: Path, database_url: str, *, page_size: int = 100) -> None:
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.fake_x = FakeX.create(tmp_path / "fake-x.sqlite3", page_size=page_size)
        self.state = self.fake_x.path
        self.processes: list[BotProcess] = []
        self._engine: Engine | None = None

    def env(
        self, failpoints: str | None = None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The child's environment: ours without SOCIALBOT_*, then the database, fake
        credentials, the fast loop, the failpoints and `extra` (which wins)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALBOT_")}
        env |= {"SOCIALBOT_DATABASE_URL": self.database_url, **self.credentials, **FAST}
        if failpoints:
            env["SOCIALBOT_FAILPOINTS"] = failpoints
        env["PYTHONUNBUFFERED"] = "1"
        return env | dict(extra or {})

    def start(
        self,
        failpoints: str | None = None,
        *,
        name: str = "bot",
        args: Iterable[str] = ("run",),
        extra_env: Mapping[str, str] | None = None,
    ) -> BotProcess:
        """A new `socialbot run` (or other `args`), logging to `<name>-<n>.log`."""
        log_path = self.tmp_path / f"{name}-{len(self.processes) + 1}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", self.runner, str(self.state), *args],
                cwd=PROJECT_ROOT,
                env=self.env(failpoints, extra_env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process = BotProcess(name, popen, log_path, failpoints)
        self.processes.append(process)
        return process

    def wait_for(
        self,
        what: str,
        condition: Callable[[], bool],
        *,
        timeout: float = 60.0,
        watch: Collection[BotProcess] = (),
        interval: float = 0.2,
    ) -> None:
        """Until `condition()` holds; fail at the deadline, or at once if a process in `watch`
        ends, with the logs."""
        deadline = time.monotonic() + timeout
        while not condition():
            ended = [p for p in watch if p.returncode is not None]
            if ended:
                raise AssertionError(
                    f"waiting for {what}: {ended[0].name} (pid {ended[0].pid}) exited "
                    f"{ended[0].returncode}\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout:.0f} s\n{self.logs()}")
            time.sleep(interval)

    @property
    def engine(self) -> Engine:
        """The bots' database, for the test to read. No pool: each look sees the newest data."""
        if self._engine is None:
            self._engine = create_engine(self.database_url, poolclass=NullPool)
        return self._engine

    def settled(self, post_ids: Collection[str]) -> bool:
        """Every one of `post_ids` recorded, and no reply waiting or half-sent."""
        with Session(self.engine) as session:
            recorded = session.exec(
                select(func.count()).where(col(MentionRecord.post_id).in_(post_ids))
            ).one()
            unsettled = session.exec(
                select(func.count()).where(
                    col(OutboxMessage.state).in_([OutboxState.PENDING, OutboxState.SENDING])
                )
            ).one()
        return recorded == len(post_ids) and unsettled == 0

    def logs(self) -> str:
        return "\n".join(
            f"----- {p.name} pid {p.pid} failpoints={p.failpoints} exit={p.returncode} "
            f"({p.log_path.name}) -----\n{p.log()}"
            for p in self.processes
        )

    def close(self) -> None:
        """Kill what still runs (our own children only), print every log, let the database go."""
        for process in self.processes:
            process.kill()
        print(self.logs())
        if self._engine is not None:
            self._engine.dispose()
