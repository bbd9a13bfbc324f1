"""0013 adds `crm_requests`; going down to 0012 drops it and leaves the cases as they were."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from socialbot.store.db import alembic_config

CASE = (
    "INSERT INTO cases (id, category, department, priority, status, location_source, photo_urls,"
    " lang, platform, mention_post_id, author_id, description, created_at, updated_at,"
    " reporter_count) VALUES (1, 'pothole', 'Streets', 'normal', 'new', 'post', '[]', 'en', 'x',"
    " '1001', '2001', '', '2026-11-23 12:00:00', '2026-11-23 12:00:00', 1)"
)
REQUEST = (
    "INSERT INTO crm_requests (case_id, state, service_code, attempts, next_attempt_at,"
    " created_at) VALUES (1, 'pending', '4fd3b167e750846744000005', 0, '2026-11-23 12:00:00',"
    " '2026-11-23 12:00:00')"
)


def test_one_request_a_case_and_a_downgrade_drops_the_queue_only(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(CASE))
        connection.execute(text(REQUEST))
    # The unique case_id: a case goes to the CRM at most once.
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(REQUEST))

    command.downgrade(alembic_config(engine), "0012")
    assert "crm_requests" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 1

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM crm_requests")).scalar() == 0
