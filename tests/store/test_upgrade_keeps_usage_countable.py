"""A database with X's usage rows, upgraded through 0011, goes on counting calls."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, text

from socialbot.metering import DatabaseMeter
from socialbot.store.db import alembic_config, make_engine
from socialbot.usage import ApiCall


def test_calls_are_still_counted_after_upgrading_a_database_with_usage(database_url: str) -> None:
    engine: Engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0010")
    with engine.begin() as connection:  # a month of X's counts, as 0010 kept them
        for day in range(1, 4):
            connection.execute(
                text(
                    "INSERT INTO api_usage (day, account, endpoint, charge, calls, errors, units)"
                    " VALUES (:day, 'intake', :endpoint, 'read', 1, 0, 5)"
                ),
                {"day": f"2026-11-{day:02d}", "endpoint": "GET /2/users/:id/mentions"},
            )
    command.upgrade(config, "head")

    meter = DatabaseMeter(engine)
    meter.record(
        ApiCall(
            network="x",
            account="intake",
            endpoint="POST /2/tweets",
            at=datetime(2026, 11, 23, 12, tzinfo=UTC),
            status=201,
            charge=None,
            units=1,
        )
    )

    assert meter.failures == 0 and meter.unrecorded == 0
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM api_usage")).scalar() == 4
    engine.dispose()
