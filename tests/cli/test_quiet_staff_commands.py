"""`broadcast send`, `broadcast cancel` and `open311 sync --once` are read by a person as
`poll --once` is: their standard error holds warnings and errors, not an INFO line for every post
queued and sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses

from socialbot.cli import app
from socialbot.store.db import make_engine, upgrade
from tests import xapi
from tests.cli.run import runner
from tests.cli.test_cases_list import demo_db, demo_template
from tests.cli.test_open311 import mapped_catalog
from tests.open311.crm import API_KEY, ENDPOINT, POTHOLE, FakeCrm

__all__ = ["demo_db", "demo_template"]  # the fixtures, used by name


@pytest.fixture(autouse=True)
def info_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_LOG_LEVEL", "INFO")  # the service's level; a person's is quieter


@responses.activate
def test_broadcast_send_prints_its_tables_and_logs_nothing_below_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    for name, value in {
        "DATABASE_URL": url,
        "X_CONSUMER_KEY": "ck-SECRET",
        "X_CONSUMER_SECRET": "cs-SECRET",
        "ACCOUNTS__NOTIFY__X_ACCESS_TOKEN": "at-SECRET",
        "ACCOUNTS__NOTIFY__X_ACCESS_TOKEN_SECRET": "ats-SECRET",
        "ACCOUNTS__NOTIFY__X_USER_ID": "1583000000000000002",
    }.items():
        monkeypatch.setenv(f"SOCIALBOT_{name}", value)
    new_id = "1860000000000000101"
    responses.post(xapi.TWEETS_URL, json=xapi.posted(new_id, "Snow emergency"), status=201)

    result = runner.invoke(app, ["broadcast", "send", "--text", "Snow emergency", "--yes"])

    assert result.exit_code == 0, result.output
    assert "Broadcast #1: sent" in result.stdout and new_id in result.stdout
    assert result.stderr == ""

    scheduled = ["--text", "Street cleaning", "--at", "2099-01-05 07:00", "--yes"]
    assert runner.invoke(app, ["broadcast", "send", *scheduled]).exit_code == 0
    cancelled = runner.invoke(app, ["broadcast", "cancel", "2", "--as", "comms"])
    assert cancelled.exit_code == 0, cancelled.output
    assert cancelled.stdout == "Cancelled broadcast #2.\n" and cancelled.stderr == ""


@responses.activate
def test_open311_sync_once_prints_its_counts_alone(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_OPEN311_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("SOCIALBOT_OPEN311_API_KEY", API_KEY)
    monkeypatch.setenv("SOCIALBOT_HASHTAGS", str(mapped_catalog(tmp_path, pothole=POTHOLE)))
    crm = FakeCrm(responses.mock, clock=lambda: datetime.now(UTC))
    crm.script = ["ok", "reject"]  # the second case refused: the forwarder's ERROR line stays

    result = runner.invoke(app, ["open311", "sync", "--once"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("send: queued 3, sent 2, token 0, rejected 1")
    logged = [line for line in result.stderr.splitlines() if line]
    assert [line.split()[2] for line in logged] == ["WARNING", "ERROR"], logged
