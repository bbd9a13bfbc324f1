"""`socialbot run`'s loop: jobs run on schedule, never overlap, and SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler

from socialbot.scheduler import run_forever


def test_sigterm_lets_the_running_job_finish_then_returns() -> None:
    finished = threading.Event()
    started = threading.Event()

    def slow_job() -> None:
        started.set()
        time.sleep(0.3)  # a job in the middle of its work when the signal comes
        finished.set()

    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(slow_job, "interval", seconds=60, id="slow", next_run_time=datetime.now(UTC))

    def terminate() -> None:
        started.wait(5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate, daemon=True).start()
    run_forever(scheduler)

    assert finished.is_set()
    assert not scheduler.running
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
