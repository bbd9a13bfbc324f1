"""socialbot.failpoints: inert unless armed; armed, the chosen hit kills the process."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta

import pytest

from socialbot import failpoints
from socialbot.app import account_outbox, build_service
from socialbot.config import Settings, load_settings
from socialbot.networks.x.replay import ReplayPlatform
from tests import xapi
from tests.crash.harness import PROJECT_ROOT


def test_the_spec_names_points_and_the_hit_that_fires() -> None:
    assert failpoints.parse("") == {}
    assert failpoints.parse("send.after_post") == {"send.after_post": 1}
    assert failpoints.parse(" poll.mid_page@2, send.after_claim ,") == {
        "poll.mid_page": 2,
        "send.after_claim": 1,
    }
    with pytest.raises(ValueError, match=r"SOCIALBOT_FAILPOINTS: 'poll\.mid_page@0'"):
        failpoints.parse("poll.mid_page@0")


def test_unarmed_it_does_nothing() -> None:
    for _ in range(3):
        failpoints.hit("send.after_post")


def test_armed_the_chosen_hit_kills_after_flushing() -> None:
    code = (
        "import logging, sys\n"
        "logging.basicConfig(stream=sys.stderr, level='INFO')\n"
        "from socialbot import failpoints\n"
        "failpoints.hit('a'); failpoints.hit('b'); print('one', flush=True)\n"
        "failpoints.hit('a'); print('two', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={"SOCIALBOT_FAILPOINTS": "a@2", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == "one\n"
    assert "event=failpoint name=a hit=2" in done.stderr


def test_the_variable_is_no_unknown_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_FAILPOINTS", "send.after_post")
    load_settings()  # no ConfigError "unknown setting"


def test_the_recovery_wait_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().recover_after_seconds == 120
    monkeypatch.setenv("SOCIALBOT_RECOVER_AFTER_SECONDS", "2")
    assert load_settings().recover_after_seconds == 2


def test_every_outbox_recovers_after_the_setting(settings: Settings) -> None:
    settings = settings.model_copy(update={"recover_after_seconds": 2})
    service = build_service(settings, platform=ReplayPlatform(xapi.CITY_ID), accounts={})
    try:
        notify = account_outbox(settings, service.engine, "notify", ReplayPlatform("42"))
        assert service.outbox.policy.recover_after == timedelta(seconds=2)
        assert notify.policy.recover_after == timedelta(seconds=2)
    finally:
        service.close()
