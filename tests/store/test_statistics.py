"""socialbot keeps the planner's statistics itself (`store.statistics`): ANALYZE after a
migration, on both databases, and on SQLite the hourly `db:optimize` job of `socialbot run`,
whose failure is counted like any job's and stops nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine

from socialbot.app import build_service
from socialbot.config import Settings
from socialbot.health import read_jobs
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.scheduler import OPTIMIZE_SECONDS, Jobs, build_scheduler
from socialbot.store import statistics
from socialbot.store.db import make_engine, upgrade
from tests import xapi
from tests.conftest import Clock


def sqlite_stats(engine: Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as connection:
        return [
            (tbl, idx)
            for tbl, idx in connection.exec_driver_sql("SELECT tbl, idx FROM sqlite_stat1").all()
        ]


def test_a_migration_leaves_statistics_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'socialbot.db'}", create=True)
    upgrade(engine)
    with engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).all()
    assert tables == [("sqlite_stat1",)]  # ANALYZE ran (an empty table gets no row yet)
    engine.dispose()


def test_an_upgrade_with_nothing_to_migrate_reads_no_statistics(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Engine] = []
    monkeypatch.setattr("socialbot.store.db.analyze", calls.append)
    upgrade(engine)
    assert calls == []


def test_analyze_covers_socialbots_tables_on_either_database(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO accounts (platform, name) VALUES ('x', 'intake'), ('x', 'notify')"
        )
    statistics.analyze(engine)
    if engine.dialect.name == "sqlite":
        assert ("accounts", "sqlite_autoindex_accounts_1") in sqlite_stats(engine)
        return
    with engine.connect() as connection:
        analyzed = connection.exec_driver_sql(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'accounts' AND schemaname = current_schema()"
        ).scalar_one()
    assert analyzed


def test_run_keeps_sqlites_statistics_every_hour_and_postgresql_leaves_them_to_autovacuum(
    settings: Settings,
) -> None:
    service = build_service(settings, platform=ReplayPlatform(xapi.CITY_ID))
    try:
        jobs = {job.id: job for job in build_scheduler(service).get_jobs()}
    finally:
        service.close()
    if service.engine.dialect.name == "sqlite":
        assert jobs["db:optimize"].trigger.interval.total_seconds() == OPTIMIZE_SECONDS
    else:
        assert "db:optimize" not in jobs


def test_the_job_takes_statistics_the_store_lacked(settings: Settings, clock: Clock) -> None:
    service = build_service(settings, platform=ReplayPlatform(xapi.CITY_ID), clock=clock)
    if service.engine.dialect.name != "sqlite":
        service.close()
        pytest.skip("SQLite's job")
    with service.engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO accounts (platform, name) VALUES ('x', 'intake')")
        connection.exec_driver_sql("DELETE FROM sqlite_stat1")
    Jobs(service).optimize()
    assert ("accounts", "sqlite_autoindex_accounts_1") in sqlite_stats(service.engine)
    service.close()


def test_a_failed_optimize_is_logged_and_counted_and_the_next_hour_runs(
    settings: Settings,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    outcomes = iter([OSError("disk I/O error"), None])
    runs: list[Engine] = []

    def flaky(engine: Engine) -> None:
        runs.append(engine)
        failure = next(outcomes)
        if failure is not None:
            raise failure

    monkeypatch.setattr("socialbot.scheduler.analyze", flaky)
    service = build_service(settings, platform=ReplayPlatform(xapi.CITY_ID), clock=clock)
    jobs = Jobs(service)
    jobs.optimize()
    failed = {job.job: job for job in read_jobs(service.engine, clock())}
    clock.advance(seconds=OPTIMIZE_SECONDS)
    jobs.optimize()
    service.close()

    assert "event=job_failed job=db:optimize failures=1" in caplog.text
    assert failed["db:optimize"].failures_last_hour == 1
    assert failed["db:optimize"].last_error == "OSError: disk I/O error"
    assert len(runs) == 2 and caplog.text.count("job=db:optimize") == 1  # ran again, fine


def test_a_migration_leaves_postgresqls_statistics_to_autovacuum(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ANALYZE of a new PostgreSQL database's empty tables would tell the planner they stay
    empty; SQLite, which gathers none by itself, gets them after every migration."""
    calls: list[Engine] = []
    revisions = iter(["0018", "0019"])  # as if a migration ran
    monkeypatch.setattr("socialbot.store.db._revision", lambda _engine: next(revisions))
    monkeypatch.setattr("socialbot.store.db.analyze", calls.append)
    upgrade(engine)
    assert calls == ([engine] if engine.dialect.name == "sqlite" else [])
