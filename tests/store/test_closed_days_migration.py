"""0018 adds `closed_days`: a day is closed at most once at a time, and a day opened again keeps
its row; going down to 0017 drops the closures and leaves the cases (and their due times) as
they were."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from socialbot.store.db import alembic_config
from tests.store.test_crm_requests_migration import CASE

CLOSE = (
    "INSERT INTO closed_days (day, reason, closed_at, closed_by) "
    "VALUES ('2026-12-24', 'snow storm', '2026-12-24 11:00:00', 'J. Rivera')"
)
OPEN = (
    "UPDATE closed_days SET opened_at = '2026-12-24 15:00:00', opened_by = 'J. Rivera' "
    "WHERE day = '2026-12-24' AND opened_at IS NULL"
)


def test_a_day_is_closed_once_at_a_time_and_a_downgrade_drops_the_closures_only(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        connection.execute(text(CASE))
        connection.execute(text(CLOSE))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(CLOSE))  # closed already
    with engine.begin() as connection:
        connection.execute(text(OPEN))
        connection.execute(text(CLOSE))  # opened again, then closed anew: two rows, one closed
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT opened_by FROM closed_days ORDER BY id")).scalars()
        assert list(rows) == ["J. Rivera", None]

    command.downgrade(alembic_config(engine), "0017")
    assert "closed_days" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 1

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM closed_days")).scalar() == 0
