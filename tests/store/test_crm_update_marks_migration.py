"""0014 adds `crm_update_marks`; going down to 0013 drops the marks and leaves the requests."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from socialbot.store.db import alembic_config
from tests.store.test_crm_requests_migration import CASE, REQUEST

MARK = (
    "INSERT INTO crm_update_marks (endpoint, fetched_until) VALUES "
    "('https://crm.example.gov/open311/v2', '2026-11-23 12:00:00')"
)


def test_one_mark_an_endpoint_and_a_downgrade_drops_the_marks_only(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(CASE))
        connection.execute(text(REQUEST))
        connection.execute(text(MARK))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(MARK))  # the endpoint is the key: one mark each

    command.downgrade(alembic_config(engine), "0013")
    assert "crm_update_marks" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM crm_requests")).scalar() == 1

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM crm_update_marks")).scalar() == 0
