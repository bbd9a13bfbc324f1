"""0022 adds broadcasts.district (the district an alert's subscribers are of); going down to
0021 drops it and keeps every broadcast."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, text

from socialbot.store.db import alembic_config

BROADCAST = (
    "INSERT INTO broadcasts (platform, account, template, texts, variables, langs, timezone, "
    "state, created_at, created_by, district) VALUES ('sms', 'intake', NULL, '{\"en\": \"Snow\"}', "
    "'{}', 'en', 'America/New_York', 'done', '2026-12-20 10:00:00', 'comms', 'Dorchester')"
)


def test_a_broadcast_keeps_its_district_and_a_downgrade_drops_only_it(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(BROADCAST))
        assert connection.execute(text("SELECT district FROM broadcasts")).scalar() == (
            "Dorchester"
        )

    command.downgrade(alembic_config(engine), "0021")
    assert "district" not in {c["name"] for c in inspect(engine).get_columns("broadcasts")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM broadcasts")).scalar() == 1

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT district FROM broadcasts")).scalar() is None
