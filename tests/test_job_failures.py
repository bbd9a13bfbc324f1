"""Monitoring that sees what goes wrong: every failed job run counted and shown by `status` (a
full disk included), a job that failed backs off instead of calling X at every tick, a call the
meter could not record is recorded later, and a 200 that is not a JSON object is X's failure."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from socialbot.app import build_service
from socialbot.config import Settings
from socialbot.errors import Unavailable
from socialbot.health import fallback_path, read_unsaved
from socialbot.metering import DatabaseMeter, read_endpoints, read_usage
from socialbot.networks.base import MentionPage
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.scheduler import Jobs
from socialbot.status import read_status
from socialbot.usage import MENTIONS, ApiCall, Charge, Prices
from tests import xapi
from tests.conftest import Clock

DISK_FULL = "database or disk is full"


@contextmanager
def disk_full(engine: Engine) -> Iterator[None]:
    """Every write fails as SQLite's does on a full disk (reads still work, as they do)."""

    def refuse(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise OperationalError(statement, params, sqlite3.OperationalError(DISK_FULL))

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


class Mentions(ReplayPlatform):
    """X with a new mention at every poll, counting the polls."""

    def __init__(self) -> None:
        super().__init__(xapi.CITY_ID)
        self.fetches = 0

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        self.fetches += 1
        self.deliver(xapi.page([xapi.tweet(self.fetches, "@DemoCity311 hello")]))
        return super().fetch_mentions(user_id, cursor)


def test_a_full_disk_is_counted_shown_by_status_and_x_is_not_polled_at_every_tick(
    settings: Settings, clock: Clock
) -> None:
    x = Mentions()
    service = build_service(settings, platform=x, clock=clock)
    jobs = Jobs(service)
    jobs.poll()
    assert x.fetches == 1  # a healthy poll

    with disk_full(service.engine):
        for _ in range(60):  # ten minutes of 10 s ticks
            clock.advance(seconds=10)
            jobs.poll()
            jobs.send()
        # `status` is another process: it reads the database, and what the service could not
        # write there from the file beside it.
        status = read_status(
            service.engine, clock(), unsaved=read_unsaved(fallback_path(settings.database_url))
        )

    assert x.fetches == 2  # the poll whose page could not be saved; none until writes work
    poll = next(j for j in status.jobs if j.job == "poll")
    assert poll.failures_last_hour >= 2 and status.job_failures_last_hour >= poll.failures_last_hour
    assert poll.last_error is not None and DISK_FULL in poll.last_error
    assert poll.last_error_at is not None and poll.last_error_at > clock() - timedelta(minutes=10)

    for _ in range(6 * 16):  # the disk has room again: the poll is back within the backoff cap
        clock.advance(seconds=10)
        jobs.poll()
    status = read_status(service.engine, clock())
    service.close()

    assert x.fetches >= 3
    assert read_unsaved(fallback_path(settings.database_url)) == []  # all in the database now
    poll = next(j for j in status.jobs if j.job == "poll")
    assert poll.failures_last_day >= 2 and DISK_FULL in (poll.last_error or "")


def test_a_failing_send_job_backs_off_and_is_counted(settings: Settings, clock: Clock) -> None:
    service = build_service(settings, platform=ReplayPlatform(xapi.CITY_ID), clock=clock)
    jobs = Jobs(service)
    runs = 0

    def broken() -> list[Any]:
        nonlocal runs
        runs += 1
        raise RuntimeError("a bug in the send job")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(type(service), "outboxes", property(lambda _self: broken()))
        for _ in range(60):
            jobs.send()
            clock.advance(seconds=10)
    status = read_status(service.engine, clock())
    service.close()

    assert 3 <= runs <= 8  # doubling from the send interval, not 60 runs
    (send,) = status.jobs
    assert send.job == "send" and send.failures_last_hour == runs
    assert send.last_error == "RuntimeError: a bug in the send job"


def test_a_call_the_meter_could_not_write_is_counted_and_recorded_later(
    engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    meter = DatabaseMeter(engine)
    call = ApiCall("x", "intake", MENTIONS, clock(), 200, Charge.POST_READ, 3)
    with disk_full(engine):
        for _ in range(20):
            meter.record(call)
    assert (meter.failures, meter.unrecorded) == (20, 20)
    assert "event=meter_failed" in caplog.text and DISK_FULL in caplog.text

    meter.record(call)

    assert meter.unrecorded == 0
    (usage,) = read_usage(engine, "2026-11", Prices())
    assert (usage.calls, sum(usage.units.values())) == (21, 63)  # the spend of all 21, none lost


@responses.activate
def test_a_200_whose_body_is_not_a_json_object_is_an_x_failure(
    engine: Engine, clock: Clock
) -> None:
    x = XPlatform(XCredentials("ck", "cs", "at", "ats"), meter=DatabaseMeter(engine), clock=clock)
    responses.get(xapi.MENTIONS_URL, json=[{"id": "1"}])

    with pytest.raises(Unavailable, match="JSON list, not an object"):
        x.fetch_mentions(xapi.CITY_ID, cursor=None)

    (endpoint,) = read_endpoints(engine, clock())
    assert endpoint.failures_last_hour == 1 and endpoint.last_ok_at is None
