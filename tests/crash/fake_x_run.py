"""`python -m tests.crash.fake_x_run STATE.sqlite3 run`: the `socialbot` command (here `run`)
with X answered by the fake X whose state is in STATE (see `tests/crash/fake_x.py`).

A subprocess cannot be mocked from the test that starts it, so the mock is set up here, in the
child, before the command runs; the rest of the arguments go to `socialbot` unchanged. Run it
from the project root (the crash harness does).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from socialbot.cli import app
from tests.crash.fake_x import FakeX


def _die_with_parent() -> None:
    """SIGKILL this bot once the test that started it is gone (a test killed by its timeout
    has no clean-up): no orphan keeps polling."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m tests.crash.fake_x_run STATE.sqlite3 SOCIALBOT-ARGS…")
    state = Path(argv[0])
    if not state.exists():
        sys.exit(f"{state}: no fake X state here (FakeX.create makes it)")
    _die_with_parent()
    with FakeX(state).mock():
        app(argv[1:], prog_name="socialbot")


if __name__ == "__main__":
    main(sys.argv[1:])
