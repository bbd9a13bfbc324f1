"""`python -m tests.crash.fake_twilio_run STATE.sqlite3 run`: the `socialbot` command with
Twilio answered by the fake Twilio whose state is in STATE (`tests/crash/fake_twilio.py`), as
`fake_x_run` does for X."""

from __future__ import annotations

import sys
from pathlib import Path

from socialbot.cli import app
from tests.crash.fake_twilio import FakeTwilio
from tests.crash.fake_x_run import _die_with_parent


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m tests.crash.fake_twilio_run STATE.sqlite3 SOCIALBOT-ARGS…")
    state = Path(argv[0])
    if not state.exists():
        sys.exit(f"{state}: no fake Twilio state here (FakeTwilio.create makes it)")
    _die_with_parent()
    with FakeTwilio(state).mock():
        app(argv[1:], prog_name="socialbot")


if __name__ == "__main__":
    main(sys.argv[1:])
