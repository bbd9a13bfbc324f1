"""Payloads recorded from the live services, read from the shared checkout and never copied.

The directory is ../shared/fixtures/ beside the project root, or $SOCIALBOT_TEST_FIXTURES_DIR.
If it is missing the tests fail rather than skip, so a broken checkout cannot pass CI silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES_DIR = Path(
    os.environ.get("SOCIALBOT_TEST_FIXTURES_DIR")
    or Path(__file__).resolve().parents[2] / "shared/fixtures"
)


def recorded(relative: str) -> Path:
    """The recorded file `relative` (e.g. "x/withheld.jsonl"); the test fails if it is missing."""
    path = FIXTURES_DIR / relative
    if not path.is_file():
        pytest.fail(
            f"recorded payload {path} not found. Check out the shared directory at "
            f"{FIXTURES_DIR} or point SOCIALBOT_TEST_FIXTURES_DIR at it.",
            pytrace=False,
        )
    return path


def x_lines(name: str) -> list[str]:
    """The lines of an X recording: one API answer (or stream object) a line, as twarc2 wrote."""
    return recorded(f"x/{name}").read_text(encoding="utf-8").splitlines()
