"""A PostgreSQL schema a test changed is dropped, not kept for the next test
(tests/postgres_schemas.py): whatever the change, if the migration did not make it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from socialbot.store.db import make_engine, upgrade
from tests import migrate_once
from tests.conftest import POSTGRES_URL


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs SOCIALBOT_TEST_POSTGRES_URL")
@pytest.mark.parametrize(
    "change",
    [
        "CREATE RULE no_new_cases AS ON INSERT TO cases DO INSTEAD NOTHING",
        "CREATE TYPE leftover AS ENUM ('a', 'b')",
        "ALTER SEQUENCE cases_id_seq INCREMENT BY 10",
        "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
        "CREATE INDEX ix_extra ON cases (department)",
        "ALTER TABLE cases ALTER COLUMN department SET DEFAULT 'x'",
    ],
)
def test_a_schema_a_test_changed_is_not_kept(change: str) -> None:
    schemas = migrate_once.POSTGRES_SCHEMAS
    assert schemas is not None and POSTGRES_URL is not None
    schema = schemas.new()
    options = {"options": f"-csearch_path={schema}"}
    engine = make_engine(make_url(POSTGRES_URL).update_query_dict(options).render_as_string(False))
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text(change))
    engine.dispose()
    dropped = schemas.dropped
    schemas.done(schema)
    assert schemas.dropped == dropped + 1, f"kept after {change!r}"
