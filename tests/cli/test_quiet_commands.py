"""`poll --once` and `send --once` are read by a person: their standard output is their own
output alone, and the log says only warnings and errors (on standard error) unless `--verbose`.
The service (`run`, `poll`/`send` without `--once`) keeps `SOCIALBOT_LOG_LEVEL`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import responses

from socialbot.cli import app
from socialbot.cli.common import State
from socialbot.store.db import make_engine, upgrade
from tests import xapi
from tests.cli.run import runner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    settings = {
        "SOCIALBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'city.db'}",
        "SOCIALBOT_X_USER_ID": xapi.CITY_ID,
        "SOCIALBOT_BACKFILL_HOURS": str(24 * 365 * 100),  # fixed-date sample posts
        "SOCIALBOT_LOG_LEVEL": "INFO",
    }
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        settings[f"SOCIALBOT_X_{name}"] = f"{name.lower()}-SECRET"
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


def socialbot(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a terminal runs it: its own process, stdout and stderr apart."""
    return subprocess.run(
        [sys.executable, "-m", "socialbot", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_send_once_prints_its_counts_alone_and_logs_nothing_below_warning(
    city: dict[str, str],
) -> None:
    engine = make_engine(city["SOCIALBOT_DATABASE_URL"])
    upgrade(engine)
    engine.dispose()

    quiet = socialbot("send", "--once")

    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "intake: sent 0, failed 0, retrying later 0, recovered 0\n"
    assert quiet.stderr == ""

    verbose = socialbot("send", "--once", "--verbose")
    assert verbose.stdout == quiet.stdout  # the log never goes to stdout
    assert " INFO socialbot.app event=configured " in verbose.stderr


@responses.activate
def test_poll_once_prints_its_table_alone() -> None:
    page = xapi.page([xapi.tweet(1, "@DemoCity311 #pothole on Main", coordinates=(42.35, -71.06))])
    responses.get(xapi.MENTIONS_URL, json=page)

    result = runner.invoke(app, ["poll", "--once"])

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("1 new mention(s)\n")
    assert "event=" not in result.stdout


@responses.activate
def test_poll_once_verbose_logs_the_poll_on_stderr() -> None:
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))

    result = runner.invoke(app, ["poll", "--once", "-v"])

    assert result.exit_code == 0, result.output
    assert " INFO socialbot.poller event=poll " in result.stderr
    assert "event=" not in result.stdout


def test_quiet_is_warning_and_up_and_the_service_keeps_its_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Quiet is WARNING and up, not silence: a level set higher than that is kept too."""
    monkeypatch.setenv("SOCIALBOT_LOG_LEVEL", "ERROR")
    State(config_file=None).quiet_settings()
    assert logging.getLogger().level == logging.ERROR
    State(config_file=None).settings()
    assert logging.getLogger().level == logging.ERROR
    monkeypatch.setenv("SOCIALBOT_LOG_LEVEL", "DEBUG")
    State(config_file=None).quiet_settings()
    assert logging.getLogger().level == logging.WARNING
    State(config_file=None).settings()  # the service's: as configured
    assert logging.getLogger().level == logging.DEBUG
