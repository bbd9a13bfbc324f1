"""One poller per account: two processes on one database, exactly one polls, and the other takes
over at its next tick when the first stops or dies (real SQLite files and real PostgreSQL)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import responses
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from socialbot.app import build_service
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.networks.base import MentionPage
from socialbot.networks.x import wire as x_wire
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.scheduler import Jobs, build_scheduler
from socialbot.store.db import make_engine
from socialbot.store.poll_lock import PollLock, poll_lock_key
from tests import xapi
from tests.cli.run import invoke
from tests.conftest import Clock

PLATFORM = x_wire.PLATFORM


@pytest.fixture
def engines(database_url: str) -> Iterator[Callable[[], Engine]]:
    """Engines on the test database, one per "process": each has connections of its own."""
    made: list[Engine] = []

    def make() -> Engine:
        made.append(make_engine(database_url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


@pytest.fixture
def locks(engines: Callable[[], Engine]) -> Iterator[Callable[[], PollLock]]:
    """The intake account's poll lock, as a separate process would make it."""
    made: list[PollLock] = []

    def make() -> PollLock:
        made.append(PollLock(engines(), platform=PLATFORM, account=INTAKE_ACCOUNT))
        return made[-1]

    yield make
    for lock in made:
        lock.release()


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def until(condition: Callable[[], bool], seconds: float = 10) -> float:
    """How long `condition` took to become true; fails after `seconds`."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < seconds, "never happened"
        time.sleep(0.02)
    return time.monotonic() - began


def break_lock_connection(database_url: str, lock_holder_engine: Engine) -> None:
    """What a PostgreSQL restart does to the holder's lock (its session ends), or, on SQLite, an
    operator removing the lock file: the holder no longer holds anything others respect."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        os.unlink(f"{url.database}.poll.lock")
        return
    with lock_holder_engine.connect() as admin:
        schema = admin.execute(text("SELECT current_schema()")).scalar_one()
        key = poll_lock_key(PLATFORM, INTAKE_ACCOUNT, schema)
        ended = admin.execute(
            text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                " AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid)"
            ),
            {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
        ).all()
        admin.commit()
    assert ended == [(True,)]


def test_one_of_two_instances_holds_the_lock_until_it_lets_go(
    locks: Callable[[], PollLock],
) -> None:
    first, second = locks(), locks()

    assert first.acquire_or_check()
    assert not second.acquire_or_check()
    assert first.acquire_or_check()  # still ours: checked, not taken twice
    assert not second.acquire_or_check()

    first.release()
    assert second.acquire_or_check()
    assert not first.acquire_or_check()
    assert second.held and not first.held


def test_the_lock_of_a_killed_holder_is_taken_at_the_next_try(
    database_url: str, locks: Callable[[], PollLock]
) -> None:
    holder = (
        "import sys, time\n"
        "from socialbot.store.db import make_engine\n"
        "from socialbot.store.poll_lock import PollLock\n"
        f"lock = PollLock(make_engine(sys.argv[1]), platform={PLATFORM!r}, account='intake')\n"
        "assert lock.acquire_or_check()\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    ours = locks()
    process = subprocess.Popen(
        [sys.executable, "-c", holder, database_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "held\n"
        assert not ours.acquire_or_check()

        process.kill()  # SIGKILL: no release, no goodbye
        process.wait(10)
        # The kernel frees the flock at exit; PostgreSQL frees the advisory lock when the dead
        # process's connection closes, which its backend sees at once.
        assert until(ours.acquire_or_check) < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_a_holder_whose_lock_went_away_takes_it_again(
    database_url: str, engines: Callable[[], Engine], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="socialbot")
    engine = engines()
    holder = PollLock(engine, platform=PLATFORM, account=INTAKE_ACCOUNT)
    try:
        assert holder.acquire_or_check()
        break_lock_connection(database_url, engine)

        assert holder.acquire_or_check()  # noticed, reconnected, took it again

        assert "event=poll_lock_lost" in caplog.text
        other = PollLock(engines(), platform=PLATFORM, account=INTAKE_ACCOUNT)
        assert not other.acquire_or_check()  # and it is a lock the others respect
        other.release()
    finally:
        holder.release()


def test_a_holder_whose_lock_went_away_yields_to_one_that_took_it(
    database_url: str, engines: Callable[[], Engine]
) -> None:
    engine = engines()
    holder = PollLock(engine, platform=PLATFORM, account=INTAKE_ACCOUNT)
    other = PollLock(engines(), platform=PLATFORM, account=INTAKE_ACCOUNT)
    try:
        assert holder.acquire_or_check()
        assert not other.acquire_or_check()
        break_lock_connection(database_url, engine)

        assert other.acquire_or_check()
        assert not holder.acquire_or_check()  # noticed it lost the lock, and left it
        assert not holder.held
    finally:
        holder.release()
        other.release()


def test_disposing_the_work_engine_releases_the_lock(
    engines: Callable[[], Engine], locks: Callable[[], PollLock]
) -> None:
    engine = engines()
    first, second = PollLock(engine, platform=PLATFORM, account=INTAKE_ACCOUNT), locks()
    assert first.acquire_or_check()

    engine.dispose()  # what Service.close does

    assert not first.held
    assert second.acquire_or_check()


def test_an_in_memory_database_is_always_the_holder() -> None:
    engine = make_engine("sqlite:///:memory:")
    lock = PollLock(engine, platform=PLATFORM, account=INTAKE_ACCOUNT)
    assert lock.acquire_or_check() and lock.acquire_or_check()
    lock.release()
    engine.dispose()


def test_the_lock_file_lies_beside_the_sqlite_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'city.db'}")
    lock = PollLock(engine, platform=PLATFORM, account=INTAKE_ACCOUNT)
    assert lock.acquire_or_check()
    assert (tmp_path / "city.db.poll.lock").exists()
    assert lock.describe() == f"lock=file path={tmp_path / 'city.db.poll.lock'}"
    lock.release()
    engine.dispose()


def test_the_advisory_key_is_fixed_per_account_and_schema() -> None:
    key = poll_lock_key("x", "intake", "public")
    assert key == poll_lock_key("x", "intake", "public")
    assert -(2**63) <= key < 2**63
    others = {
        poll_lock_key("x", "notify", "public"),
        poll_lock_key("x", "intake", "city_b"),
        poll_lock_key("mastodon", "intake", "public"),
    }
    assert key not in others and len(others) == 3


class Counting(ReplayPlatform):
    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.fetches = 0

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        self.fetches += 1
        return super().fetch_mentions(user_id, cursor)


def test_only_the_lock_holder_polls_and_another_takes_over_when_it_stops(
    settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="socialbot")
    first, second = Counting(xapi.CITY_ID), Counting(xapi.CITY_ID)
    service_a = build_service(settings, platform=first, clock=clock)
    service_b = build_service(settings, platform=second, clock=clock)
    try:
        jobs_a, jobs_b = Jobs(service_a), Jobs(service_b)
        for _ in range(3):
            jobs_a.poll()
            jobs_b.poll()
        assert (first.fetches, second.fetches) == (3, 0)
        # Said once when the role changed, not at every tick.
        assert caplog.text.count("event=poll_skipped reason=another_instance_polls") == 1
        assert caplog.text.count("event=poll_leader") == 1

        service_a.close()  # the first instance stops (or dies): its lock goes with it
        jobs_b.poll()
        assert second.fetches == 1
        assert caplog.text.count("event=poll_leader") == 2
    finally:
        service_a.close()
        service_b.close()


def test_the_scheduler_lets_the_lock_go_when_it_stops(
    settings: Settings, clock: Clock, locks: Callable[[], PollLock]
) -> None:
    service = build_service(settings, platform=Counting(xapi.CITY_ID), clock=clock)
    other = locks()
    try:
        scheduler = build_scheduler(service)
        scheduler.start(paused=True)  # no job runs by itself; the poll job is run by hand
        poll = scheduler.get_job("poll:x").func
        poll()
        assert poll.func.__self__.poll_lock.held
        assert not other.acquire_or_check()

        scheduler.shutdown(wait=True)

        assert other.acquire_or_check()
    finally:
        service.close()


@responses.activate
def test_poll_once_leaves_the_poll_to_the_instance_that_polls(
    database_url: str, locks: Callable[[], PollLock], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"SOCIALBOT_X_{name}", f"{name.lower()}-SECRET")
    monkeypatch.setenv("SOCIALBOT_X_USER_ID", xapi.CITY_ID)
    monkeypatch.setenv("SOCIALBOT_BACKFILL_HOURS", str(24 * 365 * 100))  # fixed-date sample posts
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    service = locks()
    assert service.acquire_or_check()

    code, out = invoke("poll", "--once")

    assert code == 0
    assert out == "Another socialbot instance is polling this account; nothing done.\n"
    assert len(responses.calls) == 0  # X was not asked

    service.release()
    responses.get(
        xapi.MENTIONS_URL,
        json=xapi.page(
            [xapi.tweet(1, "@DemoCity311 #pothole on Main", coordinates=(42.35, -71.06))]
        ),
    )
    code, out = invoke("poll", "--once")
    assert code == 0 and "case #1" in out
    assert service.acquire_or_check()  # the one-off poll let go of it when done


def test_each_network_account_has_a_lock_of_its_own(engines: Callable[[], Engine]) -> None:
    engine = engines()
    x, mastodon = (PollLock(engine, platform=p, account=INTAKE_ACCOUNT) for p in ("x", "mastodon"))
    other_mastodon = PollLock(engines(), platform="mastodon", account=INTAKE_ACCOUNT)
    try:
        assert x.acquire_or_check() and mastodon.acquire_or_check()  # one process polls both
        assert not other_mastodon.acquire_or_check()  # but each only once
    finally:
        for lock in (x, mastodon, other_mastodon):
            lock.release()
